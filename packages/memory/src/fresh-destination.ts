// A migration refused after its destination was opened (a conversation longer than --max-messages,
// a message the destination would refuse, a source that fails as it is read) must not leave a new,
// empty store behind: the README says it is refused before anything is copied. That includes the
// directories opening it created for it.
import { existsSync } from 'node:fs'
import { rm, rmdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { comparablePath } from './backends/file/store-path.js'
import type { Location } from './location.js'
import type { Memory } from './memory-api.js'

// What opening a store creates beside its file: the JSON store's journal and lock (and the
// snapshot's backup and temporary file), SQLite's write-ahead log, shared memory and rollback journal.
const COMPANIONS = ['.journal', '.lock', '.bak', '.tmp', '-wal', '-shm', '-journal']

/** The files and directories of a destination that do not exist yet, to remove if the run leaves it empty. */
export interface FreshFiles {
  /**
   * Closes `store` and removes those files, then those directories that are empty, deepest first,
   * when the store holds no conversation; else keeps all.
   */
  removeIfEmpty(store: Memory): Promise<void>
}

/** Notes which files of `location` are absent before it is opened; nothing for Redis. */
export async function freshFiles(location: Location): Promise<FreshFiles> {
  if (location.kind === 'redis') return { removeIfEmpty: async () => {} }
  const path = await comparablePath(location.path)
  // A file that is already there is never removed: it may be the user's, even if empty.
  if (existsSync(path)) return { removeIfEmpty: async () => {} }
  const absent = [path, ...COMPANIONS.map((suffix) => `${path}${suffix}`)].filter((f) => !existsSync(f))
  const directories = absentDirectories(path)
  return {
    async removeIfEmpty(store) {
      for await (const _ of store.conversations()) return
      await store.close()
      for (const file of absent) await rm(file, { force: true })
      // rmdir removes only an empty directory: one that got other files meanwhile stays, and so
      // do its parents.
      for (const dir of directories) {
        if (
          !(await rmdir(dir).then(
            () => true,
            () => false,
          ))
        )
          break
      }
    },
  }
}

/** The missing directories above `path`, deepest first: the ones opening the store creates. */
function absentDirectories(path: string): string[] {
  const missing: string[] = []
  for (let dir = dirname(path); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir))
    missing.push(dir)
  return missing
}
