import { Worker } from 'node:worker_threads'
import { MemoryError, type MemoryErrorCode } from '../../errors.js'
import { WORKER_LOST } from './sqlite-errors.js'
import type { WriteReply, WriteRequest, WriteWorkerData } from './write-worker.js'

const PREFIX = '[@taurobot/memory] '

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
 * One write worker thread and the requests it has in hand. It keeps the process alive only while
 * a request is in flight, so a pending strict add is not cut short by the process running out of
 * work, and an idle store never holds the process open. Each thread answers for its own requests
 * only: when it stops, a thread started after it is not affected.
 */
export class WriteThread {
  private readonly worker: Worker
  private readonly waiting = new Map<number, Waiter>()
  private nextId = 1
  private stopped: Error | undefined

  /** `onLost` is told, once, when the thread stopped without being asked to. */
  constructor(url: URL, data: WriteWorkerData, onLost: (thread: WriteThread) => void) {
    // Plain built JavaScript: the parent's flags (loaders, --input-type) are not meant for it.
    this.worker = new Worker(url, { workerData: data, execArgv: [] })
    this.worker.unref()
    this.worker.on('message', (reply: WriteReply) => this.settle(reply))
    const lost = (reason: string) => {
      if (this.stopped !== undefined) return
      this.lost(reason)
      onLost(this)
    }
    this.worker.on('error', (error) => lost(error.message))
    this.worker.on('exit', (code) => lost(`it exited with code ${code}`))
  }

  request(make: (id: number) => WriteRequest): Promise<unknown> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped)
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      if (this.waiting.size === 0) this.worker.ref()
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage(make(id))
    })
  }

  /** Stops the thread; what it still had in hand fails. */
  async terminate(): Promise<void> {
    if (this.stopped === undefined) this.lost('it was stopped')
    await this.worker.terminate()
  }

  private settle(reply: WriteReply): void {
    const waiter = this.waiting.get(reply.id)
    if (waiter === undefined) return
    this.waiting.delete(reply.id)
    if (this.waiting.size === 0) this.worker.unref()
    if ('error' in reply) waiter.reject(fromReply(reply.error))
    else waiter.resolve(reply.value)
  }

  private lost(reason: string): void {
    this.stopped = Object.assign(new Error(`the SQLite write worker stopped: ${reason}`), {
      code: WORKER_LOST,
    })
    this.worker.unref()
    for (const waiter of this.waiting.values()) waiter.reject(this.stopped)
    this.waiting.clear()
  }
}
