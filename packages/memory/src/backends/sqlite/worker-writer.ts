import { Worker } from 'node:worker_threads'
import { MemoryError, type MemoryErrorCode } from '../../errors.js'
import { findWorkerModule } from '../../worker-module.js'
import type { OverLimit } from '../over-limit.js'
import type { EncodedEntry } from './tables.js'
import type { WriteReply, WriteRequest, WriteWorkerData } from './write-worker.js'
import type { OverLimitListener, Writer } from './writer.js'

const PREFIX = '[@taurobot/memory] '

/** The worker's module next to the package's files, or `undefined` (see findWorkerModule). */
export function findWriteWorker(): URL | undefined {
  return findWorkerModule('sqlite-write-worker.js')
}

interface Waiter {
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** Rebuilds an error sent by the worker, keeping SQLite's code for the backend's mapping. */
function fromReply(error: Extract<WriteReply, { error: unknown }>['error']): Error {
  if (error.memoryError === true) {
    const message = error.message.startsWith(PREFIX) ? error.message.slice(PREFIX.length) : error.message
    return new MemoryError(error.code as MemoryErrorCode, message)
  }
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code })
}

/**
 * Makes the backend's writes on a worker thread with a connection of its own. The worker keeps
 * the process alive only while a request is in flight, so a pending strict add is not cut short
 * by the process running out of work, and an idle store never holds the process open.
 */
export class WorkerWriter implements Writer {
  private worker: Worker | undefined
  private opening: Promise<unknown> | undefined
  private opened = false
  private nextId = 1
  private readonly waiting = new Map<number, Waiter>()

  constructor(
    private readonly url: URL,
    private readonly data: WriteWorkerData,
    private readonly overLimit: OverLimitListener,
  ) {}

  /**
   * Starts the thread and its connection without waiting for them: a thread takes tens of
   * milliseconds to start, which the store's open would otherwise pay for. The first write waits
   * for it instead, and fails with its error if the worker's connection could not be opened (the
   * main thread's connection has already checked the database by then).
   *
   * The worker's open also looks for conversations longer than `maxMessages` (a scan of the
   * conversations table, kept off the main thread), and its answer comes before that of any
   * write: the listener is told before a write that trims them is even sent.
   */
  async open(): Promise<void> {
    const opening = this.request((id) => ({ id, op: 'open' }))
    opening.then(
      (found) => {
        this.opened = true
        if (found !== undefined) this.overLimit(found as OverLimit)
      },
      () => undefined,
    )
    this.opening = opening
  }

  append(entries: readonly EncodedEntry[]): Promise<void> {
    const send = () => this.request((id) => ({ id, op: 'append', entries })) as Promise<void>
    // Once the worker is open, straight to it: each step of waiting here delays a strict add.
    return this.opened ? send() : Promise.resolve(this.opening).then(send)
  }

  async clear(conversation: string): Promise<boolean> {
    await this.opening
    return (await this.request((id) => ({ id, op: 'clear', conversation }))) as boolean
  }

  async prune(cutoff: number): Promise<string[]> {
    await this.opening
    return (await this.request((id) => ({ id, op: 'prune', cutoff }))) as string[]
  }

  async close(): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    try {
      await this.request((id) => ({ id, op: 'close' }))
    } catch {
      // Every write was committed (and is durable) before close was asked for: a failed close
      // only leaves the WAL to be checkpointed by the next connection.
    } finally {
      this.worker = undefined
      await worker.terminate()
    }
  }

  /** Stops the thread without waiting for anything: used when opening failed. */
  async terminate(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private request(make: (id: number) => WriteRequest): Promise<unknown> {
    let worker: Worker
    try {
      worker = this.worker ?? this.start()
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      if (this.waiting.size === 0) worker.ref()
      this.waiting.set(id, { resolve, reject })
      worker.postMessage(make(id))
    })
  }

  private start(): Worker {
    // Plain built JavaScript: the parent's flags (loaders, --input-type) are not meant for it.
    const worker = new Worker(this.url, { workerData: this.data, execArgv: [] })
    worker.unref()
    worker.on('message', (reply: WriteReply) => this.settle(worker, reply))
    worker.on('error', (error) => this.lost(worker, error.message))
    worker.on('exit', (code) => this.lost(worker, `the write worker exited with code ${code}`))
    this.worker = worker
    return worker
  }

  private settle(worker: Worker, reply: WriteReply): void {
    const waiter = this.waiting.get(reply.id)
    if (waiter === undefined) return
    this.waiting.delete(reply.id)
    if (this.waiting.size === 0) worker.unref()
    if ('error' in reply) waiter.reject(fromReply(reply.error))
    else waiter.resolve(reply.value)
  }

  // The thread is gone (an uncaught error, or terminated): what it had in hand fails, and the
  // backend reports the worker as unusable; a later open starts a new one.
  private lost(worker: Worker, reason: string): void {
    if (this.worker === worker) this.worker = undefined
    const error = Object.assign(new Error(`the SQLite write worker stopped: ${reason}`), {
      code: 'WORKER_LOST',
    })
    for (const waiter of this.waiting.values()) waiter.reject(error)
    this.waiting.clear()
  }
}
