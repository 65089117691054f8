import { Worker } from 'node:worker_threads'
import { findWorkerModule } from '../../worker-module.js'
import { WriteCalledOffError } from './atomic-write.js'
import type { CompactionReply } from './compact-worker.js'
import { type CompactionJob, CompactionMismatchError, ForeignSnapshotError } from './compaction.js'
import type { SnapshotIdentity } from './snapshot-identity.js'

/** The worker thread could not be started, or stopped while it had a job. */
export class WorkerUnavailableError extends Error {}

/** The worker's module next to the package's files, or `undefined` (see findWorkerModule). */
export function findCompactionWorker(): URL | undefined {
  return findWorkerModule('compact-worker.js')
}

/** A rewrite the worker did: the bytes written, and the snapshot's identity as it renamed it. */
export interface CompactionDone {
  readonly bytes: number
  readonly identity: SnapshotIdentity | undefined
}

interface Waiter {
  resolve(done: CompactionDone): void
  reject(error: unknown): void
}

/**
 * One worker thread per file backend, started at its first compaction. It keeps the process alive
 * only while it has a job: a script that never calls close() still exits, and one that awaits a
 * rewrite (close(), `taurobot-memory migrate` into a JSON file) is not cut off in the middle of it.
 */
export class WorkerCompactor {
  private worker: Worker | undefined
  private nextId = 1
  private readonly waiting = new Map<number, Waiter>()

  constructor(private readonly url: URL) {}

  /** Rewrites the snapshot as `job` describes, on the worker; resolves with what it wrote. */
  run(job: CompactionJob): Promise<CompactionDone> {
    let worker: Worker
    try {
      worker = this.worker ?? this.start()
    } catch (error) {
      return Promise.reject(new WorkerUnavailableError((error as Error).message, { cause: error }))
    }
    return new Promise<CompactionDone>((resolve, reject) => {
      const id = this.nextId++
      if (this.waiting.size === 0) worker.ref()
      this.waiting.set(id, { resolve, reject })
      worker.postMessage({ id, job })
    })
  }

  /**
   * Starts the thread ahead of the first job. The start-up's share of the main thread (several ms
   * the first time in a process) then falls in open(), not in the middle of a save.
   */
  prepare(): void {
    if (this.worker !== undefined) return
    try {
      this.start()
    } catch {
      // run() reports it, and the backend falls back to the main thread then.
    }
  }

  async terminate(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private start(): Worker {
    // The worker runs plain built JavaScript: the parent's flags (--input-type, loaders, inspector)
    // are not meant for it and some make it fail to start.
    const worker = new Worker(this.url, {
      execArgv: [],
      // Parsing a 10 MB snapshot allocates fast, and each of the worker's scavenges runs on V8's
      // helper threads, which every isolate of the process shares and which run at normal
      // priority. A small young generation keeps those scavenges short, and with them the bot's
      // worst saves during a compaction (about 1 ms less on 2 shared cores).
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    })
    worker.on('message', (reply: CompactionReply) => {
      const waiter = this.waiting.get(reply.id)
      if (waiter === undefined) return
      this.waiting.delete(reply.id)
      // Not once terminate() has begun: the reply of a job called off can still arrive, and
      // unreferencing then could end the process before the exit that terminate() awaits.
      if (this.waiting.size === 0 && this.worker === worker) worker.unref()
      if ('bytes' in reply) {
        waiter.resolve({ bytes: reply.bytes, identity: reply.identity })
        return
      }
      const error = reply.error.calledOff
        ? new WriteCalledOffError(reply.error.message)
        : reply.error.foreign
          ? new ForeignSnapshotError(reply.error.message)
          : reply.error.mismatch
            ? new CompactionMismatchError(reply.error.message)
            : Object.assign(
                new Error(reply.error.message),
                reply.error.code === undefined ? {} : { code: reply.error.code },
              )
      waiter.reject(error)
    })
    worker.on('error', (error) => this.lost(worker, error.message))
    worker.on('exit', (code) => this.lost(worker, `the worker thread exited with code ${code}`))
    // Idle until run() refs it. Only after the listeners: adding a 'message' listener refs the
    // worker's port again (Node 20), and a script that never calls close() would then never exit.
    worker.unref()
    this.worker = worker
    return worker
  }

  private lost(worker: Worker, reason: string): void {
    if (this.worker === worker) this.worker = undefined
    for (const waiter of this.waiting.values()) waiter.reject(new WorkerUnavailableError(reason))
    this.waiting.clear()
  }
}
