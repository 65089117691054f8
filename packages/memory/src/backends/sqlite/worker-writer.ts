import { MemoryError } from '../../errors.js'
import { findWorkerModule } from '../../worker-module.js'
import type { OverLimit } from '../over-limit.js'
import type { EncodedEntry } from './tables.js'
import { WriteThread } from './write-thread.js'
import type { WriteRequest, WriteWorkerData } from './write-worker.js'
import { type OverLimitListener, type Writer, type WriterCommits, zeroCommits } from './writer.js'

/** The worker's module next to the package's files, or `undefined` (see findWorkerModule). */
export function findWriteWorker(): URL | undefined {
  return findWorkerModule('sqlite-write-worker.js')
}

/**
 * Makes the backend's writes on a worker thread with a connection of its own.
 *
 * A thread whose connection could not be opened (the file replaced or unreadable at that moment,
 * no file descriptor left, ...) is stopped, and so is one that died: the writes waiting for it
 * fail with the cause, and the next write starts a new thread and opens its connection again.
 * Without that, one transient failure at startup failed every later write until the process
 * restarted.
 */
export class WorkerWriter implements Writer {
  private thread: WriteThread | undefined
  /** The current thread's open; settles before any write is sent to that thread. */
  private opening: Promise<void> | undefined
  private opened = false
  private reported = false
  private closed = false
  private readonly stopping = new Set<Promise<void>>()
  readonly commits: WriterCommits = zeroCommits()

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
   */
  async open(): Promise<void> {
    this.connect()
  }

  append(entries: readonly EncodedEntry[]): Promise<void> {
    const send = (thread: WriteThread) =>
      thread.request((id) => ({ id, op: 'append', entries })).then(this.committed) as Promise<void>
    // Once the worker is open, straight to it: each step of waiting here delays a strict add.
    const thread = this.thread
    return this.opened && thread !== undefined ? send(thread) : this.ready().then(send)
  }

  async clear(conversation: string): Promise<boolean> {
    return this.committed((await this.send((id) => ({ id, op: 'clear', conversation }))) as boolean)
  }

  async prune(cutoff: number): Promise<string[]> {
    return this.committed((await this.send((id) => ({ id, op: 'prune', cutoff }))) as string[])
  }

  /** Copies the WAL into the database on the worker's connection (PASSIVE: waits for nobody). */
  async checkpoint(): Promise<void> {
    await this.send((id) => ({ id, op: 'checkpoint' }))
  }

  private readonly committed = <T>(value: T): T => {
    this.commits.worker++
    return value
  }

  async close(): Promise<void> {
    this.closed = true
    const thread = this.thread
    this.thread = undefined
    this.opening = undefined
    this.opened = false
    if (thread !== undefined) {
      try {
        await thread.request((id) => ({ id, op: 'close' }))
      } catch {
        // Every write was committed (and is durable) before close was asked for: a failed close
        // only leaves the WAL to be checkpointed by the next connection.
      }
      await thread.terminate()
    }
    await Promise.all(this.stopping)
  }

  /** Stops the threads without waiting for anything: used when opening the store failed. */
  async terminate(): Promise<void> {
    this.closed = true
    const thread = this.thread
    this.thread = undefined
    await Promise.all([thread?.terminate(), ...this.stopping])
  }

  private async send(make: (id: number) => WriteRequest): Promise<unknown> {
    return (await this.ready()).request(make)
  }

  /** The thread once its connection is open, starting one if there is none. */
  private async ready(): Promise<WriteThread> {
    if (this.closed) throw new MemoryError('closed', 'the SQLite backend is closed.')
    const thread = this.thread ?? this.connect()
    await this.opening
    return thread
  }

  /**
   * A new thread, with its open sent. The open also looks for conversations longer than
   * `maxMessages` (a scan of the conversations table, kept off the main thread); the listener is
   * told before any write is sent to this thread, so before a write that trims them commits.
   */
  private connect(): WriteThread {
    const thread = new WriteThread(this.url, this.data, (lost) => this.forget(lost))
    this.thread = thread
    this.opened = false
    const opening = thread
      .request((id) => ({ id, op: 'open' }))
      .then(
        (found) => {
          if (this.thread === thread) this.opened = true
          if (found !== undefined && !this.reported) {
            this.reported = true
            this.overLimit(found as OverLimit)
          }
        },
        (error: unknown) => {
          // The failed open is answered to the writes that waited for it; the next one starts over
          // on a new thread (a connection half-opened is not worth reasoning about).
          this.forget(thread)
          this.stop(thread)
          throw error
        },
      )
    // Nobody may be waiting yet: the failure is reported to the writes that come for it.
    opening.catch(() => undefined)
    this.opening = opening
    return thread
  }

  private forget(thread: WriteThread): void {
    if (this.thread !== thread) return
    this.thread = undefined
    this.opening = undefined
    this.opened = false
  }

  private stop(thread: WriteThread): void {
    const stopping = thread.terminate().catch(() => undefined)
    this.stopping.add(stopping)
    void stopping.then(() => this.stopping.delete(stopping))
  }
}
