// The one worker pool of the process. Every VoiceSystem, and every loaded copy of this package
// (ESM and CJS, or two versions with the same protocol), dispatches through the same object, kept on
// globalThis under a registered symbol. Tasks wait in this module's own bounded queue and reach
// piscina only when a thread is free, so that:
// - aborting a queued task removes it at once, and a running one is stopped cooperatively through a
//   shared flag, keeping its thread and warm engine (piscina alone would terminate the thread);
// - close() can wait for every accepted task, including queued ones, before stopping the threads;
// - a full queue is a typed error and back-pressure is observable (needsDrain / drain()).
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { VoiceError } from './errors.js'
import type { WorkerResult, WorkerTask } from './worker.js'

/** Settings of the shared pool. Thread settings apply only before the pool starts its first thread. */
export interface VoicePoolOptions {
  /**
   * Most worker threads alive at once.
   * @default os.availableParallelism()
   */
  maxThreads?: number
  /**
   * Milliseconds an idle thread lives before it is stopped, so an idle bot drops to zero threads.
   * Idle threads never keep the process alive, whatever this value.
   * @default 30000
   */
  idleTimeout?: number
  /**
   * Most tasks waiting for a thread; one more is rejected with `VoiceError('queue-full')`.
   * @default 2048
   */
  maxQueue?: number
  /**
   * Heap limit of each worker thread in MB. A task that exceeds it fails with
   * `VoiceError('out-of-memory')` and its thread is replaced; the process is not affected.
   * @default 256
   */
  maxMemoryMb?: number
  /**
   * Milliseconds a cancelled running task has to stop on its own before its thread is terminated.
   * @default 1000
   */
  cancelGraceMs?: number
  /**
   * Path or `file:` URL of the worker module. Needed only when the package is bundled in a way that
   * hides its `dist/worker.js` (see the README's bundling section).
   * @default next to this module, else `@taurobot/voice/worker` resolved from the working directory
   */
  workerPath?: string | URL
  /**
   * On SIGINT/SIGTERM, close the pool (every accepted task finishes) and then re-raise the signal,
   * so the exit code stays 130/143. Off by default: the package adds no process listeners.
   * @default false
   */
  handleSignals?: boolean
}

/** Percentiles of a latency distribution, in milliseconds. */
export interface LatencySummary {
  /** Number of samples. */
  count: number
  /** Arithmetic mean. */
  mean: number
  /** Median. */
  p50: number
  /** 90th percentile. */
  p90: number
  /** 99th percentile. */
  p99: number
  /** Largest sample. */
  max: number
}

/** A snapshot of the shared pool, from {@link VoicePool.stats}. */
export interface VoicePoolStats {
  /** Worker threads alive now. */
  threads: number
  /** The thread limit. */
  maxThreads: number
  /** Tasks waiting for a thread. */
  queued: number
  /** Tasks running on a thread. */
  running: number
  /** Tasks that produced audio. */
  completed: number
  /** Tasks that failed (engine error, crash, out of memory, queue full...). */
  failed: number
  /** Tasks aborted or timed out. */
  cancelled: number
  /** Share of thread time spent running tasks since the pool started, 0..1. */
  utilization: number
  /** Time from acceptance to the start of work. */
  waitTime: LatencySummary
  /** Time a thread spent on a task, engine loading included. */
  runTime: LatencySummary
  /** Engine loading on worker threads: how often, the last and the slowest time in ms. */
  engineInitMs: { count: number; last: number | undefined; max: number | undefined }
  /** True while the queue is at least half full after having been full: wait for `drain()`. */
  needsDrain: boolean
  /** True after `close()` or `destroy()`. */
  closed: boolean
}

/** Per-task settings handed to {@link PoolCore.run}. */
export interface RunOptions {
  signal?: AbortSignal | undefined
  timeoutMs?: number | undefined
}

type Success = Extract<WorkerResult, { ok: true }>

interface Job {
  task: WorkerTask
  resolve: (result: Success) => void
  reject: (error: unknown) => void
  state: 'queued' | 'running' | 'settled'
  enqueuedAt: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  timer: NodeJS.Timeout | undefined
  killer: AbortController | undefined
}

const protocol = 1
const globalKey = Symbol.for('@taurobot/voice.pool')

function summary(histogram: RecordableHistogram): LatencySummary {
  const count = histogram.count
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
  const ms = (microseconds: number) => Math.round(microseconds) / 1000
  return {
    count,
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  }
}

function record(histogram: RecordableHistogram, milliseconds: number): void {
  histogram.record(Math.max(1, Math.round(milliseconds * 1000)))
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${String(value)}`)
  }
  return value
}

function moduleUrl(): string | undefined {
  // tsup's shims give the CJS build an import.meta.url; a consumer's bundler may leave it empty.
  try {
    return typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined
  } catch {
    return undefined
  }
}

/** Finds the worker module: explicit path, next to this module, or through the package's exports. */
export function resolveWorkerPath(explicit?: string | URL): string {
  if (explicit !== undefined) {
    const path = explicit instanceof URL || explicit.startsWith('file:') ? fileURLToPath(explicit) : explicit
    if (!existsSync(path)) {
      throw new VoiceError(
        'worker-missing',
        `the worker module "${path}" given as workerPath does not exist.`,
        {
          details: { workerPath: path },
        },
      )
    }
    return path
  }
  const here = moduleUrl()
  const tried: string[] = []
  if (here?.startsWith('file:')) {
    const sibling = fileURLToPath(new URL('./worker.js', here))
    if (existsSync(sibling)) return sibling
    tried.push(sibling)
  }
  // Bundled into a consumer's app, this module no longer sits in dist/: resolve the worker through
  // the package's `./worker` export, from the bundle (or the entry script) first. A CJS bundle has
  // no import.meta.url, and naming __filename here would make tsup shim it into the ESM build.
  const bases = [here, process.argv[1], join(process.cwd(), 'index.js')]
  for (const base of bases) {
    if (base === undefined) continue
    try {
      return createRequire(base).resolve('@taurobot/voice/worker')
    } catch {
      tried.push(`@taurobot/voice/worker from ${base}`)
    }
  }
  throw new VoiceError(
    'worker-missing',
    'cannot find the worker module (dist/worker.js). If you bundle your app, keep @taurobot/voice ' +
      'installed in node_modules or set voicePool.configure({ workerPath }).',
    { details: { tried } },
  )
}

function mapThreadError(error: unknown, maxMemoryMb: number): VoiceError {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new VoiceError(
      'out-of-memory',
      `a worker thread ran out of memory (limit ${maxMemoryMb} MB) on this task and was replaced; other ` +
        'tasks are unaffected. Shorten the text or raise voicePool.configure({ maxMemoryMb }).',
      { cause: error, details: { maxMemoryMb } },
    )
  }
  const exit = /worker exited with code: (-?\d+)/.exec(message)
  if (exit) {
    return new VoiceError(
      'worker-crashed',
      `the worker thread exited with code ${exit[1]} while running this task; it was replaced and ` +
        'other tasks are unaffected. Check the engine.',
      { cause: error, details: { exitCode: Number(exit[1]) } },
    )
  }
  return new VoiceError(
    'worker-crashed',
    `the worker thread failed while running this task (${message}); it was replaced and other tasks are unaffected.`,
    { cause: error, details: { reason: message } },
  )
}

/** The shared pool's implementation. Exported for the package's own modules only. */
export class PoolCore {
  readonly protocol = protocol
  #options = {
    maxThreads: availableParallelism(),
    idleTimeout: 30_000,
    maxQueue: 2048,
    maxMemoryMb: 256,
    cancelGraceMs: 1000,
    workerPath: undefined as string | URL | undefined,
  }
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
  #waitTime = createHistogram()
  #runTime = createHistogram()
  #engineInit = { count: 0, last: undefined as number | undefined, max: undefined as number | undefined }
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined

  configure(options: VoicePoolOptions): void {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`voicePool.configure() options must be an object, got ${String(options)}`)
    }
    const threadOptions = ['maxThreads', 'idleTimeout', 'maxMemoryMb', 'workerPath'] as const
    const changesThreads = threadOptions.some((name) => options[name] !== undefined)
    if (changesThreads && this.#piscina !== undefined) {
      throw new VoiceError(
        'pool-started',
        'thread settings (maxThreads, idleTimeout, maxMemoryMb, workerPath) apply only before the first ' +
          'task starts a thread. Call voicePool.configure() at startup.',
        { details: { options: threadOptions.filter((name) => options[name] !== undefined) } },
      )
    }
    const next = { ...this.#options }
    if (options.maxThreads !== undefined) next.maxThreads = positiveInteger('maxThreads', options.maxThreads)
    if (options.maxQueue !== undefined) next.maxQueue = positiveInteger('maxQueue', options.maxQueue)
    if (options.maxMemoryMb !== undefined)
      next.maxMemoryMb = positiveInteger('maxMemoryMb', options.maxMemoryMb)
    if (options.idleTimeout !== undefined) next.idleTimeout = nonNegative('idleTimeout', options.idleTimeout)
    if (options.cancelGraceMs !== undefined) {
      next.cancelGraceMs = nonNegative('cancelGraceMs', options.cancelGraceMs)
    }
    if (options.workerPath !== undefined) {
      if (typeof options.workerPath !== 'string' && !(options.workerPath instanceof URL)) {
        throw new TypeError(`workerPath must be a path or a file: URL, got ${String(options.workerPath)}`)
      }
      next.workerPath = options.workerPath
    }
    if (options.handleSignals !== undefined && typeof options.handleSignals !== 'boolean') {
      throw new TypeError(`handleSignals must be a boolean, got ${String(options.handleSignals)}`)
    }
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
  run(task: WorkerTask, options: RunOptions = {}): Promise<Success> {
    if (this.#closed) {
      return Promise.reject(
        new VoiceError(
          'pool-closed',
          'the voice pool is closed; no new task is accepted after close() or destroy().',
        ),
      )
    }
    const { signal, timeoutMs } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#failed++
      this.#needsDrain = true
      return Promise.reject(
        new VoiceError(
          'queue-full',
          `the voice pool's queue is full (${this.#options.maxQueue} tasks waiting). Wait for ` +
            'voicePool.drain() before adding more, or raise voicePool.configure({ maxQueue }).',
          { details: { maxQueue: this.#options.maxQueue, running: this.#running } },
        ),
      )
    }
    return new Promise<Success>((resolve, reject) => {
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
      waitTime: summary(this.#waitTime),
      runTime: summary(this.#runTime),
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
    for (const job of this.#runningJobs) this.#settle(job, () => job.reject(reason))
    const piscina = this.#piscina
    this.#piscina = undefined
    await piscina?.destroy()
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
      this.#settle(job, () => job.reject(error))
      return
    }
    const started = performance.now()
    record(this.#waitTime, started - job.enqueuedAt)
    job.state = 'running'
    job.killer = new AbortController()
    this.#runningJobs.add(job)
    this.#running++
    const run = piscina
      .run(job.task, { signal: job.killer.signal })
      .then(
        (result: WorkerResult) => {
          if (result.ok && result.engineInitMs !== undefined) this.#recordEngineInit(result.engineInitMs)
          if (job.state === 'settled') return
          if (result.ok) {
            this.#completed++
            this.#settle(job, () => job.resolve(result))
          } else {
            this.#failed++
            const { code, message, details } = result.error
            this.#settle(job, () => job.reject(new VoiceError(code, message, { details })))
          }
        },
        (error: unknown) => {
          if (job.state === 'settled') return
          this.#failed++
          this.#settle(job, () => job.reject(mapThreadError(error, this.#options.maxMemoryMb)))
        },
      )
      .finally(() => {
        const elapsed = performance.now() - started
        this.#busyMs += elapsed
        record(this.#runTime, elapsed)
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

  #recordEngineInit(ms: number): void {
    const init = this.#engineInit
    init.count++
    init.last = ms
    init.max = init.max === undefined ? ms : Math.max(init.max, ms)
  }

  #cancel(job: Job, reason: unknown): void {
    if (job.state === 'settled') return
    this.#cancelled++
    if (job.state === 'queued') {
      const index = this.#queue.indexOf(job)
      if (index !== -1) this.#queue.splice(index, 1)
      this.#settle(job, () => job.reject(reason))
      this.#updateDrain()
      return
    }
    // Running: ask the engine to stop at its next check, keep the thread, and only terminate it if
    // it does not stop within the grace period.
    Atomics.store(job.task.cancel, 0, 1)
    const killer = job.killer
    this.#settle(job, () => job.reject(reason))
    if (killer) {
      const grace = setTimeout(() => killer.abort(), this.#options.cancelGraceMs)
      grace.unref()
      this.#graceTimers.set(job, grace)
    }
  }

  #graceTimers = new Map<Job, NodeJS.Timeout>()

  #settle(job: Job, deliver: () => void): void {
    if (job.state === 'settled') return
    job.state = 'settled'
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort)
    if (job.timer) clearTimeout(job.timer)
    deliver()
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

/** The process-wide pool: the one already registered on globalThis, or a new one registered now. */
export function sharedPool(): PoolCore {
  const registry = globalThis as unknown as Record<symbol, unknown>
  const existing = registry[globalKey] as { protocol?: unknown } | undefined
  if (existing?.protocol === protocol) return existing as PoolCore
  if (existing === undefined) {
    const created = new PoolCore()
    registry[globalKey] = created
    return created
  }
  // A copy speaking another protocol keeps its pool; this copy then uses a private one.
  privatePool ??= new PoolCore()
  return privatePool
}

let privatePool: PoolCore | undefined

/** The process-wide worker pool shared by every {@link VoiceSystem}. */
export interface VoicePool {
  /** Changes pool settings; thread settings only before the first task starts a thread. */
  configure(options: VoicePoolOptions): void
  /** A snapshot of threads, queue, counters and latency percentiles. */
  stats(): VoicePoolStats
  /** True when the queue filled up and has not yet fallen back to half: wait for `drain()`. */
  readonly needsDrain: boolean
  /** Resolves once `needsDrain` is false (at once if it already is). */
  drain(): Promise<void>
  /** True after `close()` or `destroy()`; new tasks are then rejected with `pool-closed`. */
  readonly closed: boolean
  /**
   * Stops accepting tasks, lets every accepted task (queued or running) settle with its real result,
   * then stops the threads. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>
  /** Stops now: pending tasks reject with `VoiceError('pool-closed')` and threads are terminated. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * The shared pool. It starts lazily on the first task; idle threads never keep the process alive.
 * @example
 * ```ts
 * import { voicePool } from '@taurobot/voice'
 * voicePool.configure({ maxThreads: 2, handleSignals: true })
 * console.log(voicePool.stats().runTime.p99)
 * await voicePool.close()
 * ```
 */
export const voicePool: VoicePool = {
  configure: (options) => sharedPool().configure(options),
  stats: () => sharedPool().stats(),
  get needsDrain() {
    return sharedPool().needsDrain
  },
  drain: () => sharedPool().drain(),
  get closed() {
    return sharedPool().closed
  },
  close: () => sharedPool().close(),
  destroy: () => sharedPool().destroy(),
  [Symbol.asyncDispose]: () => sharedPool().close(),
}
