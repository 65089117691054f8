import fs from 'node:fs'
import { open } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'

/**
 * Counts fsync/fdatasync calls made by anything in this process (callback, sync and promise
 * forms), by wrapping Node's fs functions once. It must be installed before the code under test is
 * imported, since some libraries keep their own reference to `fs.fsync`.
 */
export const syncCalls = { count: 0 }

let installed = false

export async function installSyncCounter(scratchDir: string): Promise<void> {
  if (installed) return
  installed = true
  const mutable = fs as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const name of ['fsync', 'fdatasync', 'fsyncSync', 'fdatasyncSync'] as const) {
    const original = mutable[name] as (...args: unknown[]) => unknown
    mutable[name] = function counted(this: unknown, ...args: unknown[]) {
      syncCalls.count += 1
      return original.apply(this, args)
    }
  }
  syncBuiltinESMExports()
  // FileHandle is not exported as a class; take its prototype from a real handle.
  const handle = await open(join(scratchDir, '.sync-counter-probe'), 'w')
  const proto = Object.getPrototypeOf(handle) as Record<string, (...args: unknown[]) => unknown>
  await handle.close()
  for (const name of ['sync', 'datasync'] as const) {
    const original = proto[name] as (...args: unknown[]) => unknown
    proto[name] = function counted(this: unknown, ...args: unknown[]) {
      syncCalls.count += 1
      return original.apply(this, args)
    }
  }
}
