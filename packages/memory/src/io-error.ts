import { join } from 'node:path'
import { MemoryError } from './errors.js'

/** The errno code of a Node error, or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const ADVICE: Record<string, string> = {
  EACCES: 'Check the permissions of the file and of its directory',
  EPERM: "Check the directory's permissions",
  EROFS: 'The file system is read-only; point path at a writable location',
  ENOSPC: 'The disk is full; free some space',
  EDQUOT: 'The disk quota is exhausted; free some space',
  EISDIR: 'A directory is in the way of a file; move it out of the way',
  ENOTDIR: 'A file is in the way of a directory; move it out of the way',
  EEXIST: 'A file is in the way of a directory; move it out of the way',
  EFBIG: 'The file size limit was reached',
  EIO: 'The disk reported an I/O error',
}

/**
 * Wraps a file-system error into a `MemoryError` (code `io`) that names the file and the cause.
 * `kept` is appended as the reassurance about pending data, when there is some.
 */
export function ioError(action: string, file: string, cause: unknown, kept = ''): MemoryError {
  const code = errorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause))
  const advice = ADVICE[code] ?? 'Check that the path is writable'
  return new MemoryError('io', `cannot ${action} ${JSON.stringify(file)}: ${code}. ${advice}.${kept}`, {
    cause,
    details: { file, action, errno: errorCode(cause) },
  })
}

/**
 * The error for a directory where a store's file should be (`EISDIR`, or SQLite's less telling
 * `SQLITE_CANTOPEN`): says so, naming the absolute path, and suggests a file inside it.
 * `what` is the failed action ("cannot open the SQLite store"), `kind` the file expected there.
 */
export function directoryInTheWay(
  what: string,
  file: string,
  kind: string,
  example: string,
  cause?: unknown,
): MemoryError {
  return new MemoryError(
    'io',
    `${what}: ${JSON.stringify(file)} is a directory, not ${kind}. Point path at a file, such as ${JSON.stringify(join(file, example))}, or move the directory away.`,
    { cause, details: { file, errno: 'EISDIR' } },
  )
}
