import { createHash } from 'node:crypto'
import { link, open, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { errorCode } from '../../io-error.js'
import { copyAtomic } from './atomic-write.js'
import { syncDirectory } from './fs-utils.js'

const PIECE_BYTES = 4 * 1024 * 1024

async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256')
  const handle = await open(path, 'r')
  try {
    const piece = Buffer.allocUnsafe(PIECE_BYTES)
    for (let at = 0; ; ) {
      const { bytesRead } = await handle.read(piece, 0, piece.length, at)
      if (bytesRead === 0) break
      hash.update(piece.subarray(0, bytesRead))
      at += bytesRead
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw error
  }
}

/**
 * Keeps the damaged file at `path` for inspection, as `<path>.corrupt-<hash of its bytes>`, and
 * returns that name. Named by content, so an open that fails again on the same damage finds its
 * copy already there instead of adding one more. A hard link where the file system has them (the
 * damaged file is only ever replaced by rename, never written in place), else a copy; durable
 * once this resolves. `content`, when given, is the file's bytes, already read.
 */
export async function keepDamagedCopy(path: string, content?: Buffer): Promise<string> {
  return keepCopy(path, 'corrupt', content)
}

/**
 * Keeps the snapshot another program wrote at `path` while the store had it open, as
 * `<path>.foreign-<hash of its bytes>`, before the store's own snapshot replaces it; returns that
 * name. Always a copy, never a link: that program may still write the file in place.
 */
export async function keepForeignCopy(path: string): Promise<string> {
  return keepCopy(path, 'foreign', undefined, false)
}

async function keepCopy(
  path: string,
  kind: 'corrupt' | 'foreign',
  content: Buffer | undefined,
  mayLink = true,
): Promise<string> {
  const digest =
    content === undefined ? await contentHash(path) : createHash('sha256').update(content).digest('hex')
  const keptAs = `${path}.${kind}-${digest.slice(0, 16)}`
  if (await exists(keptAs)) return keptAs
  if (!mayLink) {
    await copyAtomic(path, keptAs)
    return keptAs
  }
  try {
    await link(path, keptAs)
    await syncDirectory(dirname(path))
  } catch {
    await copyAtomic(path, keptAs)
  }
  return keptAs
}
