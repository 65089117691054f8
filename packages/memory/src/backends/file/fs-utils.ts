import { open } from 'node:fs/promises'
import { errorCode } from '../../io-error.js'

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
