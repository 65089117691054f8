import type { Stats } from 'node:fs'
import { statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { errorCode } from '../../io-error.js'

/**
 * What tells one version of the snapshot file from another without reading it: device, inode,
 * size and modification time. `null` when there is no file. A program that replaces the file
 * (a new inode) or writes it in place (a new size or mtime) changes it; the store's own renames
 * are recorded after each one. Best effort: an in-place write of the same size within the file
 * system's timestamp granularity goes unseen.
 */
export type SnapshotIdentity = string | null

/** The identity of the file `stats` describes. */
export function identityOf(stats: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`
}

/** The identity of the file at `path` now (one stat), `null` if there is none. */
export async function currentIdentity(path: string): Promise<SnapshotIdentity> {
  try {
    return identityOf(await stat(path))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null
    throw error
  }
}

/** {@link currentIdentity}, blocking: for the compaction worker thread. */
export function currentIdentitySync(path: string): SnapshotIdentity {
  try {
    return identityOf(statSync(path))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null
    throw error
  }
}
