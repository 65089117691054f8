import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MemoryError } from './errors.js'
import { errorCode, ioError } from './io-error.js'

/**
 * Creates a store's directory `dir` with its missing parents, or throws a `MemoryError` (code
 * `io`) naming it and the real cause. Node's recursive mkdir reports ENOENT when a missing parent
 * cannot be created, on a read-only file system for one, which sends the user looking for a
 * missing directory: the missing ones are then created one at a time, so the error is the one the
 * file system gave for the first of them that could not be made.
 */
export async function createDirectory(dir: string): Promise<void> {
  let reported: unknown
  try {
    await mkdir(dir, { recursive: true })
    return
  } catch (error) {
    const code = errorCode(error)
    if (code === 'EEXIST' || code === 'ENOTDIR') throw await fileInTheWay(dir, error)
    if (code !== 'ENOENT') throw ioError('create directory', dir, error)
    reported = error
  }
  const missing: string[] = []
  for (let current = dir; ; current = dirname(current)) {
    const found = await stat(current).then(
      () => true,
      (error: unknown) => errorCode(error) !== 'ENOENT',
    )
    if (found) break
    missing.unshift(current)
    if (dirname(current) === current) break
  }
  for (const each of missing) {
    try {
      await mkdir(each)
    } catch (error) {
      if (errorCode(error) === 'EEXIST') continue
      const action = each === dir ? 'create directory' : `create directory ${JSON.stringify(each)} for`
      throw ioError(action, dir, error)
    }
  }
  // Each one was made (or appeared meanwhile) after all: what recursive mkdir said still stands
  // only if the directory is not there now.
  const made = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  )
  if (!made) throw ioError('create directory', dir, reported)
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
