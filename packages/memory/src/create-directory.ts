import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MemoryError } from './errors.js'
import { errorCode, ioError } from './io-error.js'

/**
 * Creates a store's directory `dir` with its missing parents, or throws a `MemoryError` (code
 * `io`) naming it and the real cause. The missing ones are found first and made one at a time, from
 * the top, so the error is the one the file system gave for the first that could not be made.
 * Node's recursive mkdir is not used: it reports ENOENT when a missing parent cannot be made (a
 * read-only file system), which sends the user looking for a missing directory, and on a file
 * system that answers ENOENT for a directory it will never make (`/proc`) it retries forever.
 */
export async function createDirectory(dir: string): Promise<void> {
  const missing: string[] = []
  for (let current = dir; ; current = dirname(current)) {
    const found = await stat(current).then(
      (info) => (info.isDirectory() ? 'directory' : 'file'),
      (error: unknown) => {
        if (errorCode(error) === 'ENOENT') return 'missing'
        if (errorCode(error) === 'ENOTDIR') return 'file'
        throw ioError('create directory', dir, error)
      },
    )
    if (found === 'directory') break
    // The file system's own error for the file in the way (EEXIST or ENOTDIR): mkdir makes nothing
    // where a file is.
    if (found === 'file') throw await fileInTheWay(dir, await mkdir(dir).catch((error: unknown) => error))
    missing.unshift(current)
    if (dirname(current) === current) break
  }
  for (const each of missing) {
    try {
      await mkdir(each)
    } catch (error) {
      const code = errorCode(error)
      // Made meanwhile by another process: fine, if it is a directory.
      if (
        code === 'EEXIST' &&
        (await stat(each).then(
          (info) => info.isDirectory(),
          () => false,
        ))
      )
        continue
      if (code === 'EEXIST' || code === 'ENOTDIR') throw await fileInTheWay(dir, error)
      const action = each === dir ? 'create directory' : `create directory ${JSON.stringify(each)} for`
      throw ioError(action, dir, error)
    }
  }
}

/**
 * The error for a file where `dir` or one of its parents should be a directory. Most often that
 * file is a store's own (a path one level too deep, "conversations.json/conversations.json"), so
 * the advice names it and never suggests deleting it.
 */
async function fileInTheWay(dir: string, cause: unknown): Promise<MemoryError> {
  for (let current = dir; ; current = dirname(current)) {
    const isFile = await stat(current).then(
      (info) => !info.isDirectory(),
      () => false,
    )
    if (isFile) {
      return new MemoryError(
        'io',
        `cannot create directory ${JSON.stringify(dir)}: ${JSON.stringify(current)} is a file, not a directory (${errorCode(cause)}). If it is the store's file, point path at it; otherwise move it out of the way.`,
        { cause, details: { file: current, action: 'create directory', errno: errorCode(cause) } },
      )
    }
    if (dirname(current) === current) return ioError('create directory', dir, cause)
  }
}
