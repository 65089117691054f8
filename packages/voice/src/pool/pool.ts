// The pool core. Tasks wait in this module's own bounded queue and reach piscina only when a thread
// is free, so that:
// - aborting a queued task removes it at once, and a running one is stopped cooperatively through a
//   shared flag, keeping its thread and warm engine (piscina alone would terminate the thread);
// - close() can wait for every accepted task, including queued ones, before stopping the threads;
// - a full queue is a typed error and back-pressure is observable (needsDrain / drain()).
// The pool alone builds the messages its worker threads receive (worker.ts defines them): callers
// say what to run, the pool adds the cancellation flag and the warm-up barrier.
// Every task is traced on the `taurobot:voice:task` channel (diagnostics.ts) when someone listens;
// the pool fills in the message's end fields (outcome, wait and run time, audio) as it settles.
// Over 400 lines and kept whole: the queue, dispatch, cancellation and shutdown all move the same
// jobs between the same states, and splitting them would spread that state machine over files.
import { performance } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import { publishPool, type VoiceTaskMessage, type VoiceTaskOutcome } from '../diagnostics.js'
import { VoiceError } from '../errors.js'
import { checkOptionsObject } from '../known-options.js'
import type { WorkerResult, WorkerTask } from '../worker.js'
import { applyOptions, defaultSettings, threadOptions, type VoicePoolOptions } from './options.js'
import { Latency, type VoicePoolStats } from './stats.js'
import { endTrace, publishEngineInit, traceTask } from './task-trace.js'
import { threadError } from './thread-error.js'
import { resolveWorkerPath } from './worker-module.js'

/**
 * Version of the pool's API as other copies of the package call it (see shared-pool.ts). Raise it
 * whenever a method that another copy may call changes shape.
 */
export const poolProtocol = 2

/** What a caller asks the pool to run; the pool adds what only it can (the cancellation flag). */
export type PoolTask = Omit<WorkerTask, 'cancel' | 'barrier'>

/** The audio and facts a task resolves with. */
export type PoolResult = Extract<WorkerResult, { ok: true }>

/** Per-task settings handed to {@link PoolCore.run}. */
export interface RunOptions {
  signal?: AbortSignal | undefined
  timeoutMs?: number | undefined
}

interface Job {
  task: WorkerTask
  resolve: (result: PoolResult) => void
  reject: (error: unknown) => void
  state: 'queued' | 'running' | 'settled'
  enqueuedAt: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  timer: NodeJS.Timeout | undefined
  killer: AbortController | undefined
  /** The task's diagnostics message, when the task channel had subscribers as it was accepted. */
  trace: VoiceTaskMessage | undefined
}

/** One Int32 on a SharedArrayBuffer, 0 until set: visible to the worker thread while it runs. */
function sharedFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4))
}

/** The shared pool's implementation. Exported for the package's own modules only. */
export class PoolCore {
  readonly protocol = poolProtocol
  #options = defaultSettings()
  #piscina: Piscina | undefined
  #queue: Job[] = []
  #running = 0
  #inFlight = new Set<Promise<unknown>>()
  #closed = false
  #closing: Promise<void> | undefined
  #needsDrain = false
  #drainWaiters: Array<() => void> = []
  #startedAt = 0
  #busyMs = 0
  #completed = 0
  #failed = 0
  #cancelled = 0
  #waitTime = new Latency()
  #runTime = new Latency()
  #engineInit = { count: 0, last: undefined as number | undefined, max: undefined as number | undefined }
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined

  configure(options: VoicePoolOptions): void {
    checkOptionsObject(options, 'voicePool.configure()')
    const changesThreads = threadOptions.some((name) => options[name] !== undefined)
    if (changesThreads && this.#piscina !== undefined) {
      throw new VoiceError(
        'pool-started',
        'thread settings (maxThreads, idleTimeout, maxMemoryMb, workerPath) apply only before the first ' +
          'task starts a thread. Call voicePool.configure() at startup.',
        { details: { options: threadOptions.filter((name) => options[name] !== undefined) } },
      )
    }
    const next = applyOptions(this.#options, options)
    this.#options = next
    if (options.handleSignals === true) this.#installSignalHandlers()
    if (options.handleSignals === false) this.#removeSignalHandlers()
  }

  get closed(): boolean {
    return this.#closed
  }

  get needsDrain(): boolean {
    return this.#needsDrain
  }

  /** Queues one task; resolves with the worker's audio or rejects with a VoiceError or abort reason. */
  run(task: PoolTask, options: RunOptions = {}): Promise<PoolResult> {
    const full: WorkerTask = { ...task, cancel: sharedFlag() }
    return traceTask(full, (trace) => this.#submit(full, options, trace))
  }

  /**
   * Queues one copy of `task` per thread the pool may start (`maxThreads`), so that each thread runs
   * one: every copy holds its thread until all of them have reached one. One promise per copy.
   */
  runOnEveryThread(task: PoolTask, options: RunOptions = {}): Promise<PoolResult>[] {
    const size = this.#options.maxThreads
    const barrier = { arrived: sharedFlag(), size }
    return Array.from({ length: size }, () => {
      const copy: WorkerTask = { ...task, cancel: sharedFlag(), barrier }
      return traceTask(copy, (trace) => this.#submit(copy, options, trace))
    })
  }

  #submit(task: WorkerTask, options: RunOptions, trace: VoiceTaskMessage | undefined): Promise<PoolResult> {
    const refuse = (outcome: VoiceTaskOutcome, error: unknown) => {
      endTrace(trace, outcome, error)
      return Promise.reject(error)
    }
    if (this.#closed) {
      // Counted as queue-full is: a task refused at the door failed, here and on the task channel.
      this.#failed++
      return refuse(
        'failed',
        new VoiceError(
          'pool-closed',
          'the voice pool is closed; no new task is accepted after close() or destroy().',
        ),
      )
    }
    const { signal, timeoutMs } = options
    if (signal?.aborted) return refuse('cancelled', signal.reason)
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#failed++
      this.#needsDrain = true
      return refuse(
        'failed',
        new VoiceError(
          'queue-full',
          `the voice pool's queue is full (${this.#options.maxQueue} tasks waiting). Wait for ` +
            'voicePool.drain() before adding more, or raise voicePool.configure({ maxQueue }).',
          { details: { maxQueue: this.#options.maxQueue, running: this.#running } },
        ),
      )
    }
    return new Promise<PoolResult>((resolve, reject) => {
      const job: Job = {
        task,
        resolve,
        reject,
        state: 'queued',
        enqueuedAt: performance.now(),
        signal,
        onAbort: undefined,
        timer: undefined,
        killer: undefined,
        trace,
      }
      if (signal) {
        job.onAbort = () => this.#cancel(job, signal.reason)
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      if (timeoutMs !== undefined) {
        job.timer = setTimeout(() => {
          this.#cancel(
            job,
            new VoiceError('timeout', `the task did not finish within timeoutMs (${timeoutMs} ms).`, {
              details: { timeoutMs, state: job.state },
            }),
          )
        }, timeoutMs)
        // A timer must never be what keeps a finished script alive.
        job.timer.unref()
      }
      this.#queue.push(job)
      this.#pump()
    })
  }

  /** Keeps close() waiting for work that follows a task, such as writing its file. */
  track<T>(promise: Promise<T>): Promise<T> {
    // Track a never-rejecting copy: the caller handles the original's rejection.
    const settled: Promise<void> = promise.then(
      () => {},
      () => {},
    )
    this.#inFlight.add(settled)
    void settled.then(() => this.#inFlight.delete(settled))
    return promise
  }

  drain(): Promise<void> {
    if (!this.#needsDrain) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  stats(): VoicePoolStats {
    const elapsed = this.#startedAt === 0 ? 0 : performance.now() - this.#startedAt
    return {
      threads: this.#piscina?.threads.length ?? 0,
      maxThreads: this.#options.maxThreads,
      queued: this.#queue.length,
      running: this.#running,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      utilization: elapsed === 0 ? 0 : Math.min(1, this.#busyMs / (elapsed * this.#options.maxThreads)),
      waitTime: this.#waitTime.summary(),
      runTime: this.#runTime.summary(),
      engineInitMs: { ...this.#engineInit },
      needsDrain: this.#needsDrain,
      closed: this.#closed,
    }
  }

  close(): Promise<void> {
    this.#closed = true
    this.#removeSignalHandlers()
    this.#closing ??= this.#drainAndStop()
    return this.#closing
  }

  async destroy(): Promise<void> {
    this.#closed = true
    this.#removeSignalHandlers()
    const reason = new VoiceError('pool-closed', 'the voice pool was destroyed before this task finished.')
    for (const job of [...this.#queue]) this.#cancel(job, reason)
    for (const job of this.#runningJobs) this.#settle(job, 'cancelled', reason)
    const piscina = this.#piscina
    this.#piscina = undefined
    await piscina?.destroy()
    if (piscina !== undefined) publishPool(() => ({ event: 'closed', by: 'destroy' }))
  }

  #runningJobs = new Set<Job>()

  async #drainAndStop(): Promise<void> {
    // Queued tasks keep being dispatched while we wait; each settles with its real result.
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight])
      if (this.#inFlight.size === 0 && this.#queue.length > 0) this.#pump()
    }
    const piscina = this.#piscina
    this.#piscina = undefined
    // Nothing is running any more, so destroying only stops idle threads.
    await piscina?.destroy()
    if (piscina !== undefined) publishPool(() => ({ event: 'closed', by: 'close' }))
  }

  #ensurePiscina(): Piscina {
    if (this.#piscina) return this.#piscina
    const filename = resolveWorkerPath(this.#options.workerPath)
    const piscina = new Piscina({
      filename,
      name: 'runTask',
      minThreads: 0,
      maxThreads: this.#options.maxThreads,
      idleTimeout: this.#options.idleTimeout,
      resourceLimits: { maxOldGenerationSizeMb: this.#options.maxMemoryMb },
      recordTiming: false,
    })
    // A thread that dies with no task on it would otherwise be an unhandled 'error' event.
    piscina.on('error', () => {})
    this.#piscina = piscina
    this.#startedAt = performance.now()
    publishPool(() => ({ event: 'created', maxThreads: this.#options.maxThreads }))
    return piscina
  }

  #pump(): void {
    while (this.#running < this.#options.maxThreads && this.#queue.length > 0) {
      const job = this.#queue.shift() as Job
      this.#dispatch(job)
    }
    this.#updateDrain()
  }

  #updateDrain(): void {
    if (this.#queue.length >= this.#options.maxQueue) this.#needsDrain = true
    else if (this.#needsDrain && this.#queue.length <= Math.floor(this.#options.maxQueue / 2)) {
      this.#needsDrain = false
      for (const resolve of this.#drainWaiters.splice(0)) resolve()
    }
  }

  #dispatch(job: Job): void {
    let piscina: Piscina
    try {
      piscina = this.#ensurePiscina()
    } catch (error) {
      this.#failed++
      this.#settle(job, 'failed', error)
      return
    }
    const started = performance.now()
    this.#waitTime.record(started - job.enqueuedAt)
    if (job.trace) job.trace.waitMs = started - job.enqueuedAt
    job.state = 'running'
    job.killer = new AbortController()
    this.#runningJobs.add(job)
    this.#running++
    const run = piscina
      .run(job.task, { signal: job.killer.signal })
      .then(
        (result: WorkerResult) => {
          if (result.engineInitMs !== undefined) {
            this.#recordEngineInit(job.task.engine, result.engineInitMs, result.threadId)
          }
          if (job.state === 'settled') return
          if (job.trace) job.trace.runMs = performance.now() - started
          if (result.ok) {
            this.#completed++
            if (job.trace) {
              job.trace.audioBytes = result.data.byteLength
              job.trace.audioMs = result.durationMs
            }
            this.#settle(job, 'completed', undefined, result)
          } else {
            this.#failed++
            const { code, message, details } = result.error
            this.#settle(job, 'failed', new VoiceError(code, message, { details }))
          }
        },
        (error: unknown) => {
          // Piscina rejects only when the thread itself died (worker.ts answers every failure as
          // data); after destroy() the pool is gone and nothing is replaced.
          const failure = threadError(error, this.#options.maxMemoryMb)
          if (this.#piscina === piscina) {
            publishPool(() => ({
              event: 'thread-replaced',
              reason: job.killer?.signal.aborted
                ? 'terminated'
                : failure.code === 'out-of-memory'
                  ? 'out-of-memory'
                  : 'worker-crashed',
            }))
          }
          if (job.state === 'settled') return
          this.#failed++
          this.#settle(job, 'failed', failure)
        },
      )
      .finally(() => {
        const elapsed = performance.now() - started
        this.#busyMs += elapsed
        this.#runTime.record(elapsed)
        this.#runningJobs.delete(job)
        const grace = this.#graceTimers.get(job)
        if (grace) {
          clearTimeout(grace)
          this.#graceTimers.delete(job)
        }
        this.#running--
        this.#inFlight.delete(run)
        this.#pump()
      })
    this.#inFlight.add(run)
  }

  #recordEngineInit(engine: string, ms: number, threadId: number | undefined): void {
    const init = this.#engineInit
    init.count++
    init.last = ms
    init.max = init.max === undefined ? ms : Math.max(init.max, ms)
    publishEngineInit(engine, ms, threadId)
  }

  #cancel(job: Job, reason: unknown): void {
    if (job.state === 'settled') return
    this.#cancelled++
    if (job.state === 'queued') {
      const index = this.#queue.indexOf(job)
      if (index !== -1) this.#queue.splice(index, 1)
      this.#settle(job, 'cancelled', reason)
      this.#updateDrain()
      return
    }
    // Running: ask the engine to stop at its next check, keep the thread, and only terminate it if
    // it does not stop within the grace period.
    Atomics.store(job.task.cancel, 0, 1)
    const killer = job.killer
    this.#settle(job, 'cancelled', reason)
    if (killer) {
      const grace = setTimeout(() => killer.abort(), this.#options.cancelGraceMs)
      grace.unref()
      this.#graceTimers.set(job, grace)
    }
  }

  #graceTimers = new Map<Job, NodeJS.Timeout>()

  /** Settles `job` once: with `result` when it completed, else rejecting with `error`. */
  #settle(job: Job, outcome: VoiceTaskOutcome, error: unknown, result?: PoolResult): void {
    if (job.state === 'settled') return
    job.state = 'settled'
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort)
    if (job.timer) clearTimeout(job.timer)
    endTrace(job.trace, outcome, error)
    if (outcome === 'completed') job.resolve(result as PoolResult)
    else job.reject(error)
  }

  #installSignalHandlers(): void {
    if (this.#signalHandler) return
    const handler = (signal: NodeJS.Signals) => {
      this.#removeSignalHandlers()
      void this.close().finally(() => process.kill(process.pid, signal))
    }
    this.#signalHandler = handler
    process.on('SIGINT', handler)
    process.on('SIGTERM', handler)
  }

  #removeSignalHandlers(): void {
    const handler = this.#signalHandler
    if (!handler) return
    this.#signalHandler = undefined
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
