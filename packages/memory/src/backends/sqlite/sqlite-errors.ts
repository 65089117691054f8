import { MemoryError } from '../../errors.js'
import type { DatabasePlace } from './database-place.js'

/** The code of the error a write gets when the write worker stopped before answering it. */
export const WORKER_LOST = 'WORKER_LOST'

/** An error as it crosses from the write worker: its message and SQLite's (or the OS's) code. */
export interface ErrorInfo {
  readonly message: string
  readonly code?: string
}

/** The parts of an error the mapping needs, from a real error or from the worker's copy of one. */
export function errorInfo(error: unknown): ErrorInfo {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? { message, code } : { message }
}

/** What a failed read adds to its error: it changed nothing, so it may simply be called again. */
export const TRY_AGAIN = 'Try again.'

/**
 * Wraps an error of SQLite (a better-sqlite3 `SqliteError`, whose `code` is such as `SQLITE_BUSY`)
 * into a `MemoryError` that says what to do. `what` is the failed action ("cannot write 5
 * messages"), `place` the database, `after` what became of the data.
 */
export function sqliteFailure(
  error: unknown,
  what: string,
  place: DatabasePlace,
  after: string,
  busyTimeoutMs: number,
): MemoryError {
  if (error instanceof MemoryError) return error
  const { message, code = '' } = errorInfo(error)
  const where = place.text
  const details = { file: place.file, sqliteCode: code }
  const reason = `${code === '' ? '' : `${code}: `}${message.replace(/\.+$/, '')}`
  const kept = after === '' ? '' : ` ${after}`
  // better-sqlite3 loads its native addon at the first `new Database()`, not at import.
  if (code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION|bindings file/.test(message)) {
    return new MemoryError(
      'backend-unavailable',
      `${what}: better-sqlite3 is installed but its native addon cannot be loaded by Node.js ${process.version} (${message.replace(/\.+$/, '')}). It was built for another Node.js version or platform: run \`npm rebuild better-sqlite3\` with this Node.js.${kept}`,
      { cause: error, details },
    )
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new MemoryError(
      'locked',
      `${what}: ${where} is locked by another connection (${reason}; waited busyTimeoutMs, ${busyTimeoutMs} ms). Another program holds a long transaction on it: end it, or raise busyTimeoutMs.${kept}`,
      { cause: error, details },
    )
  }
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) {
    // Trying a read again gives the same damage: the advice is the restore, not a retry.
    const said = after === TRY_AGAIN ? '' : kept
    return new MemoryError(
      'corrupt',
      `${what}: ${where} is not a usable SQLite database (${reason}). Restore it from a backup, or move it aside and the store starts a new one.${said}`,
      { cause: error, details },
    )
  }
  let advice = 'Check that the file and its directory are writable and the disk is healthy.'
  if (code === WORKER_LOST) advice = 'The next write starts a new worker, which opens the database again.'
  else if (code === 'SQLITE_FULL') advice = 'The disk is full: free some space.'
  else if (/^SQLITE_(READONLY|PERM|AUTH)/.test(code)) {
    advice =
      'The file or its directory is read-only: fix the permissions or point path at a writable location.'
  } else if (/^SQLITE_CANTOPEN/.test(code)) {
    advice =
      'Check that the directory exists and is writable (SQLite also creates the -wal and -shm files next to it).'
  } else if (/^SQLITE_IOERR/.test(code)) advice = 'The disk reported an I/O error.'
  return new MemoryError('io', `${what}: ${where}: ${reason}. ${advice}${kept}`, { cause: error, details })
}
