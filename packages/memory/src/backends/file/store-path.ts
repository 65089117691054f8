import { lstat, readlink, realpath } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { createDirectory } from '../../create-directory.js'
import { MemoryError } from '../../errors.js'
import { errorCode, ioError } from '../../io-error.js'

// As many links in a row as Linux follows before ELOOP.
const MAX_LINKS = 40

/**
 * The real location of a store's snapshot: symbolic links, of the file and of its directories,
 * resolved, so that the journal, `.bak`, lock and temp files live beside the real file, writes
 * replace the target and not the link, and two links to one store share one lock. A missing
 * file is fine (it is created); its directory is created for a plain path, but must exist at the
 * end of a link: a link to a missing directory more likely names a volume that is not mounted.
 */
export async function resolveStorePath(path: string): Promise<string> {
  const target = await linkTarget(path)
  const dir = dirname(target)
  if (target !== resolve(path)) {
    try {
      return join(await realpath(dir), basename(target))
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR') throw ioError('open', dir, error)
      throw new MemoryError(
        'io',
        `path ${JSON.stringify(path)} is a symbolic link to ${JSON.stringify(target)}, whose directory does not exist. ` +
          'Create that directory (or mount its volume), or point the link elsewhere.',
        { cause: error, details: { file: path, target } },
      )
    }
  }
  await createDirectory(dir)
  try {
    return join(await realpath(dir), basename(target))
  } catch (error) {
    throw ioError('open', dir, error)
  }
}

/**
 * Where `path` leads once the symbolic links it ends in are followed (the file itself need not
 * exist): the absolute path itself when it is no link.
 */
export async function linkTarget(path: string): Promise<string> {
  let current = resolve(path)
  for (let hops = 0; ; hops++) {
    let linked: boolean
    try {
      linked = (await lstat(current)).isSymbolicLink()
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR')
        throw ioError('open', current, error)
      linked = false
    }
    if (!linked) return current
    if (hops === MAX_LINKS) {
      throw new MemoryError(
        'io',
        `path ${JSON.stringify(path)} is a loop of symbolic links. Point the link at a file.`,
        { details: { file: path } },
      )
    }
    // A relative target is relative to the directory that really holds the link.
    current = resolve(await realpath(dirname(current)), await readlink(current))
  }
}

/** `path` with its symbolic links resolved as far as they lead, to compare two paths; creates nothing. */
export async function comparablePath(path: string): Promise<string> {
  const target = await linkTarget(path)
  return realpath(dirname(target)).then(
    (dir) => join(dir, basename(target)),
    () => target,
  )
}
