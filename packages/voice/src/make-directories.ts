import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Makes `dir` and its missing parents, one at a time from the top. Not Node's recursive mkdir: on
 * a file system that answers ENOENT for a directory it will never make (`/proc`), that retries
 * forever; here the first mkdir that fails rejects with the file system's own error.
 */
export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = []
  for (let current = dir; dirname(current) !== current; current = dirname(current)) {
    const exists = await stat(current).then(
      () => true,
      (error: { code?: unknown }) => {
        if (error?.code === 'ENOENT') return false
        throw error
      },
    )
    if (exists) break
    missing.unshift(current)
  }
  for (const each of missing) {
    await mkdir(each).catch(async (error: { code?: unknown }) => {
      // Made meanwhile by another call: fine, if it is a directory.
      if (error?.code !== 'EEXIST' || !(await stat(each)).isDirectory()) throw error
    })
  }
}
