import { statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { errorCode } from '../../io-error.js'

/**
 * Permission bits of a file the store creates where none of its files is there to follow (the
 * process's umask still applies). A file that replaces or copies another takes that one's bits
 * instead: a snapshot the owner made private (0600) holds conversations, and so do its `.bak`,
 * its journal and every later snapshot.
 */
export const NEW_FILE_MODE = 0o644

/** The permission bits of the file at `path`, or undefined when there is none. */
export async function permissionsOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o7777
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** {@link permissionsOf}, synchronously (for the compaction worker's write). */
export function permissionsOfSync(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}
