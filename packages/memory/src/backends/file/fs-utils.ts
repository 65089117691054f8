import { open } from 'node:fs/promises'
import { MemoryError } from '../../errors.js'

/** The errno code of a Node error, or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const ADVICE: Record<string, string> = {
  EACCES: "Check the directory's permissions",
  EPERM: "Check the directory's permissions",
  EROFS: 'The file system is read-only; point path at a writable location',
  ENOSPC: 'The disk is full; free some space',
  EDQUOT: 'The disk quota is exhausted; free some space',
  EISDIR: 'A directory is in the way of a file; remove or rename it',
  ENOTDIR: 'A file is in the way of a directory; remove or rename it',
  EEXIST: 'A file is in the way of a directory; remove or rename it',
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
 * Makes a rename or a file creation in `dir` durable: on Linux the new directory entry is only
 * guaranteed to survive a power loss once the directory itself is fsynced.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    // Some platforms (Windows) and file systems refuse fsync on a directory: there is nothing more
    // we can do there, and the rename itself already happened.
    const code = errorCode(error)
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'ENOTSUP') throw error
  } finally {
    await handle?.close().catch(() => undefined)
  }
}

/** Lets the event loop run other work (I/O callbacks, timers) before continuing. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
