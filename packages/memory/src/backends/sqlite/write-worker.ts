// The write worker of the SQLite backend: its own connection, on its own thread, makes every
// commit, so the fsync of a durable write never blocks the bot's event loop. Built as its own
// entry and found next to the backend through import.meta.url.
import { parentPort, workerData } from 'node:worker_threads'
import { MemoryError } from '../../errors.js'
import { lowerThreadPriority } from '../../thread-priority.js'
import { type ConnectionSettings, openConnection } from './connection.js'
import { loadBetterSqlite3 } from './load-better-sqlite3.js'
import type { SqliteDatabase } from './sqlite-database.js'
import { type ErrorInfo, errorInfo } from './sqlite-errors.js'
import { ConversationTables, type EncodedEntry } from './tables.js'

/** What the worker is started with. */
export interface WriteWorkerData extends ConnectionSettings {
  readonly maxMessages: number
}

/** A request to the write worker; replies come back in the same order. */
export type WriteRequest =
  | { readonly id: number; readonly op: 'open' }
  | { readonly id: number; readonly op: 'append'; readonly entries: readonly EncodedEntry[] }
  | { readonly id: number; readonly op: 'clear'; readonly conversation: string }
  | { readonly id: number; readonly op: 'prune'; readonly cutoff: number }
  | { readonly id: number; readonly op: 'checkpoint' }
  | { readonly id: number; readonly op: 'close' }

/** The worker's answer to one request. */
export type WriteReply =
  | { readonly id: number; readonly value: unknown }
  | { readonly id: number; readonly error: ErrorInfo & { readonly memoryError?: boolean } }

// Each request wakes this thread, and the kernel tends to run a freshly woken thread on the core of
// the thread that woke it, at once: at the normal priority this worker took the core from the
// main thread in the middle of a save, for the 0.2-0.4 ms of its commit's CPU work, in about one
// save in 25 (an involuntary context switch in postMessage), which was the p99 of the main
// thread's time per save. Below normal, it waits for the other core or for the main thread to
// go idle instead, and the commit is barely later: the main thread sleeps until its reply anyway.
lowerThreadPriority()

const settings = workerData as WriteWorkerData
let db: SqliteDatabase | undefined
let tables: ConversationTables | undefined

async function connection(): Promise<ConversationTables> {
  if (tables === undefined) {
    db = openConnection(await loadBetterSqlite3(), settings)
    tables = new ConversationTables(db, settings.maxMessages)
  }
  return tables
}

/**
 * A request once the connection is open, run at once. The first, `open`, answers with the
 * conversations longer than maxMessages: checked here, before any write of this connection can
 * trim them, so the main thread's open never pays for reading the whole table.
 */
function run(open: ConversationTables, request: Exclude<WriteRequest, { op: 'close' }>): unknown {
  if (request.op === 'append') return open.append(request.entries)
  if (request.op === 'clear') return open.clear(request.conversation)
  if (request.op === 'prune') return open.prune(request.cutoff)
  // Asked for by the adaptive writer, whose commits on the main thread never checkpoint: copies
  // the WAL into the database without waiting for readers, here rather than on the event loop.
  if (request.op === 'checkpoint') return db?.pragma('wal_checkpoint(PASSIVE)')
  return open.overLimit()
}

async function handle(request: WriteRequest): Promise<unknown> {
  if (request.op === 'close') {
    // The last connection to close checkpoints the WAL into the database: here, not on the main
    // thread (the backend closes its reading connection first).
    db?.close()
    db = undefined
    tables = undefined
    return undefined
  }
  return run(await connection(), request)
}

const port = parentPort

function replyError(id: number, error: unknown): void {
  const info = errorInfo(error)
  const reply: WriteReply =
    error instanceof MemoryError
      ? { id, error: { ...info, code: error.code, memoryError: true } }
      : { id, error: info }
  port?.postMessage(reply)
}

// One request at a time, in the order sent: the chain holds later requests back while an earlier
// one waits (for the import of better-sqlite3, at the first request).
let chain: Promise<void> = Promise.resolve()
let queued = 0
port?.on('message', (request: WriteRequest) => {
  if (queued === 0 && tables !== undefined && request.op !== 'close') {
    // The usual case, a write to the open connection with none before it: run in this task and
    // reply at once. A strict add waits for this reply, so promise steps here would add to the
    // latency of every durable write.
    let value: unknown
    try {
      value = run(tables, request)
    } catch (error) {
      replyError(request.id, error)
      return
    }
    port.postMessage({ id: request.id, value } satisfies WriteReply)
    return
  }
  queued++
  chain = chain
    .then(() =>
      handle(request).then(
        (value) => port.postMessage({ id: request.id, value } satisfies WriteReply),
        (error: unknown) => replyError(request.id, error),
      ),
    )
    .finally(() => {
      queued--
    })
})
