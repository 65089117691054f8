import fs from 'node:fs'
import fsp, { open } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'

/**
 * Counts durable writes made by anything in this process: fsync/fdatasync calls (callback, sync and
 * promise forms), and writes on a descriptor opened with O_DSYNC or O_SYNC, each of which the
 * kernel makes durable before it returns, as if followed by fdatasync. Node's fs functions are
 * wrapped once; this must be installed before the code under test is imported, since some libraries
 * keep their own reference to `fs.fsync`.
 */
export const syncCalls = { count: 0 }

// O_SYNC includes O_DSYNC's bit on Linux; either makes every write durable.
const syncFlags = (fs.constants.O_DSYNC ?? 0) | (fs.constants.O_SYNC ?? 0)
// Descriptor → its FileHandle: a number alone could be reused by a later, ordinary open once the
// handle is closed, whichever way it was closed.
const syncedFds = new Map<number, WeakRef<fs.promises.FileHandle>>()
const isSyncedFd = (fd: unknown): boolean => {
  const handle = syncedFds.get(fd as number)?.deref()
  if (handle?.fd === fd) return true
  syncedFds.delete(fd as number)
  return false
}

let installed = false

type AnyFunction = (...args: unknown[]) => unknown

function wrap(target: Record<string, AnyFunction>, name: string, before: (args: unknown[]) => void): void {
  const original = target[name] as AnyFunction
  target[name] = function counted(this: unknown, ...args: unknown[]) {
    before(args)
    return original.apply(this, args)
  }
}

const isSyncedOpen = (flags: unknown) =>
  (typeof flags === 'number' && (flags & syncFlags) !== 0) ||
  (typeof flags === 'string' && flags.includes('s'))

export async function installSyncCounter(scratchDir: string): Promise<void> {
  if (installed) return
  installed = true
  const mutableFs = fs as unknown as Record<string, AnyFunction>
  for (const name of ['fsync', 'fdatasync', 'fsyncSync', 'fdatasyncSync']) {
    wrap(mutableFs, name, () => {
      syncCalls.count += 1
    })
  }
  for (const name of ['write', 'writeSync', 'writev', 'writevSync']) {
    wrap(mutableFs, name, ([fd]) => {
      if (isSyncedFd(fd)) syncCalls.count += 1
    })
  }
  const mutableFsp = fsp as unknown as Record<string, AnyFunction>
  const originalOpen = mutableFsp.open as (...args: unknown[]) => Promise<fs.promises.FileHandle>
  mutableFsp.open = async function countedOpen(this: unknown, ...args: unknown[]) {
    const handle = await originalOpen.apply(this, args)
    if (isSyncedOpen(args[1])) syncedFds.set(handle.fd, new WeakRef(handle))
    return handle
  }
  syncBuiltinESMExports()
  // FileHandle is not exported as a class; take its prototype from a real handle.
  const handle = await open(join(scratchDir, '.sync-counter-probe'), 'w')
  const proto = Object.getPrototypeOf(handle) as Record<string, AnyFunction>
  await handle.close()
  for (const name of ['sync', 'datasync']) {
    wrap(proto, name, () => {
      syncCalls.count += 1
    })
  }
  // A FileHandle write on a synced descriptor counts too.
  for (const name of ['write', 'writev']) {
    const original = proto[name] as AnyFunction
    proto[name] = function counted(this: fs.promises.FileHandle, ...args: unknown[]) {
      if (isSyncedFd(this.fd)) syncCalls.count += 1
      return original.apply(this, args)
    }
  }
}
