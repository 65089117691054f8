import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { headKind } from '../../file-kind.js'
import { placeOf } from './database-place.js'
import type { DatabaseConstructor } from './load-better-sqlite3.js'
import { checkSchema } from './schema.js'
import type { SqliteDatabase } from './sqlite-database.js'

/** How a connection of ours is opened, the same on the main thread and in the write worker. */
export interface ConnectionSettings {
  readonly path: string
  readonly busyTimeoutMs: number
}

// After a checkpoint, a WAL file that grew past this (a burst of large batches) is cut back.
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

// Pages of WAL after which a commit copies them into the database (SQLite's default is 1,000,
// 4 MB). A conversation's newest pages and the tree's upper pages change at nearly every commit;
// the longer the interval, the fewer times each is copied and synced into the database file. At
// 10,000 pages (40 MB, under JOURNAL_SIZE_LIMIT) a batch of 5,000 messages on a database of 1 M
// took an eighth less time to write (34 to 30 ms, mean of 75 batches in a scratch measurement). The cost: a database opened after a crash
// replays up to 40 MB of WAL, and readers look pages up in a longer WAL index.
export const WAL_AUTOCHECKPOINT_PAGES = 10_000

/**
 * Opens a connection with the settings the backend's guarantees rest on: WAL, so readers never
 * wait for the writer and a commit is one append to the -wal file; `synchronous = FULL`, so that
 * append is fsynced before COMMIT returns (a resolved write survives a power loss); and SQLite's
 * busy handler, so a writer waits up to `busyTimeoutMs` for another connection's lock.
 */
export function openConnection(Database: DatabaseConstructor, settings: ConnectionSettings): SqliteDatabase {
  assertNotForeign(settings.path)
  const db = new Database(settings.path, { timeout: settings.busyTimeoutMs })
  try {
    // Before WAL mode, which is written into the file's header: a database of another
    // application is refused untouched.
    checkSchema(db, placeOf(settings.path))
    // Persistent in the file; a no-op when it is already in WAL mode.
    const mode = retryWhileBusy(
      () => db.pragma('journal_mode = WAL', { simple: true }),
      settings.busyTimeoutMs,
    )
    if (mode !== 'wal')
      throw Object.assign(new Error(`SQLite refused WAL mode (it stays in ${String(mode)} mode)`), {
        code: 'SQLITE_CANTOPEN',
      })
    // Per connection, so set on each.
    db.pragma('synchronous = FULL')
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`)
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * Refuses a file that holds bytes but not a SQLite database, as SQLite's own SQLITE_NOTADB does
 * for most: it takes a file of a single byte (`echo > conversations.db`) for an empty database
 * and writes a new one over it. An empty file is a new database (so is a database in WAL mode
 * whose pages are all still in its -wal file); a missing or unreadable one is SQLite's to report.
 */
function assertNotForeign(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return
  }
  try {
    const size = fstatSync(fd).size
    if (size === 0) return
    const head = Buffer.alloc(16)
    const read = readSync(fd, head, 0, head.length, 0)
    if (headKind(head.subarray(0, read)) === 'sqlite') return
  } catch {
    return
  } finally {
    closeSync(fd)
  }
  throw Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' })
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Runs `step` again while SQLite answers SQLITE_BUSY, for up to `timeoutMs`. Switching a new
 * database to WAL can be refused at once, without SQLite's busy handler, while another process is
 * creating or converting the same file (two bots started together on a new database): waiting a
 * few milliseconds and asking again is what the busy handler would have done.
 */
function retryWhileBusy<T>(step: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
    try {
      return step()
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error
      // A synchronous pause: the connection is being opened, and nothing else can use it yet.
      Atomics.wait(pause, 0, 0, waitMs)
    }
  }
}
