import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { link, open, readdir, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { MemoryError } from '../../errors.js'
import { errorCode, ioError } from '../../io-error.js'
import { syncDirectory } from './fs-utils.js'

/** What a lock file (and a takeover claim) holds: who owns it. */
interface LockOwner {
  pid: number
  hostname: string
  since: string
  /** Which run of the process with this pid: tells a restarted pid 1 from this one. */
  start?: string
  /**
   * The kernel's name for the owning process, where it has one (Linux): its boot and its start
   * in clock ticks since that boot (see {@link processRun}). Tells the owner from another process
   * that has its pid since, after a reboot or once pids wrapped around.
   */
  run?: string
}

/**
 * `<boot id>/<start time in clock ticks since boot>` of the process `pid`, from /proc (Linux);
 * `undefined` where there is no such file or it cannot be read. The same process always gives the
 * same value, and no other process of this or any other boot does: unlike a wall-clock start, it
 * does not move when the clock is set.
 */
function processRun(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may itself hold spaces and parentheses: the start
    // time is field 22, the 20th after the name.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return ticks !== undefined && /^\d+$/.test(ticks) && boot !== '' ? `${boot}/${ticks}` : undefined
  } catch {
    return undefined
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>
    if (typeof value.pid === 'number' && typeof value.hostname === 'string') {
      const owner: LockOwner = { pid: value.pid, hostname: value.hostname, since: String(value.since) }
      if (typeof value.start === 'string') owner.start = value.start
      if (typeof value.run === 'string') owner.run = value.run
      return owner
    }
  } catch {
    // Not a record: decided by the caller.
  }
  return undefined
}

// This run of this process, the same in every thread and copy of this module: the moment the
// process started (documented as such for performance.timeOrigin), to a fraction of a millisecond.
// An earlier run with the same pid (pid 1 in a container, after each restart) started at another.
const START = String(performance.timeOrigin)

// Lock files taken or being taken in this process, by real path. Kept on globalThis so that the
// ESM and CommonJS builds (or two copies of the package) loaded together share one registry.
const REGISTRY = Symbol.for('@taurobot/memory/file-locks')
const shared = globalThis as Record<symbol, unknown>
const heldHere = (shared[REGISTRY] as Set<string> | undefined) ?? new Set<string>()
shared[REGISTRY] = heldHere

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM'
  }
  return !hasExited(pid)
}

/**
 * True when `pid` is a process that has ended but was not yet reaped by its parent (a zombie,
 * state Z or X in /proc, Linux): it still answers signal 0, and keeps doing so for as long as a
 * parent that never waits (a shell that exec'd another program, a container's first process that
 * is no init) lives, though it can no longer use the store.
 */
function hasExited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'Z' || state === 'X'
  } catch {
    return false
  }
}

/** Whether `owner` may still be using the lock; `'foreign'` when it is on another host. */
function judge(owner: LockOwner): 'live' | 'stale' | 'foreign' {
  if (owner.hostname !== hostname()) return 'foreign'
  if (owner.pid !== process.pid) {
    if (!isAlive(owner.pid)) return 'stale'
    // Alive: the owner, or a process given its pid since (after a reboot), which never frees it.
    if (owner.run === undefined) return 'live'
    const run = processRun(owner.pid)
    return run === undefined || run === owner.run ? 'live' : 'stale'
  }
  // Our pid: this process's own lock (another thread) or one left by an earlier run that had the
  // same pid, as pid 1 in a container after every restart. Locks of this thread are refused
  // before this point, through the registry.
  return owner.start === START ? 'live' : 'stale'
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// How long to wait for another process that is removing the same stale lock, before giving up.
const TAKEOVER_TRIES = 100
const TAKEOVER_PAUSE_MS = 20
// How often a lock file naming no owner is read again before the open fails with `locked`.
const UNREADABLE_TRIES = 10
// link() errors of file systems without hard links.
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

/**
 * An exclusive lock on a store: a file holding the owner's record, created complete in one step
 * (written to a temp file, then hard-linked into place, which fails if the lock exists), so it is
 * never seen empty. A lock whose owner is gone is removed under a claim file named after its
 * content, which only one process can create: two processes that find the same stale lock never
 * both take the store.
 */
export class FileLock {
  private readonly content: string
  private readonly temp: string
  private held = false
  private noLinks = false

  /** `path` must be a real path (no symbolic links): it identifies the lock in this process. */
  constructor(readonly path: string) {
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      since: new Date().toISOString(),
      start: START,
    }
    const run = processRun(process.pid)
    if (run !== undefined) owner.run = run
    this.content = JSON.stringify({ ...owner, id: randomBytes(8).toString('hex') })
    this.temp = join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  }

  /**
   * Takes the lock, or rejects with `MemoryError` code `locked` when a live process holds it.
   * A lock left by a dead process on this host is taken over.
   */
  async acquire(store: string): Promise<void> {
    if (heldHere.has(this.path))
      throw this.lockedError(store, { pid: process.pid, hostname: hostname(), since: '' })
    heldHere.add(this.path)
    try {
      await this.writeTemp()
      try {
        await this.take(store)
      } finally {
        await unlink(this.temp).catch(() => undefined)
      }
    } catch (error) {
      heldHere.delete(this.path)
      throw error
    }
    this.held = true
    await this.removeLeftovers()
  }

  /** Releases the lock if this process still holds it. */
  async release(): Promise<void> {
    if (!this.held) return
    this.held = false
    const text = await readFile(this.path, 'utf8').catch(() => undefined)
    if (text === this.content) await unlink(this.path).catch(() => undefined)
    heldHere.delete(this.path)
  }

  /**
   * Removes the temp files and takeover claims beside the lock whose owners are gone (a crash
   * between their creation and removal). Each holds its owner's record, so it is judged like a lock.
   */
  private async removeLeftovers(): Promise<void> {
    const dir = dirname(this.path)
    const prefixes = [`${basename(this.path)}.tmp-`, `${basename(this.path)}.takeover-`]
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      if (!prefixes.some((prefix) => name.startsWith(prefix))) continue
      const file = join(dir, name)
      const owner = parseOwner(await readFile(file, 'utf8').catch(() => ''))
      if (owner !== undefined && judge(owner) === 'stale') await unlink(file).catch(() => undefined)
    }
  }

  private async writeTemp(): Promise<void> {
    try {
      const handle = await open(this.temp, 'wx', 0o644)
      try {
        await handle.writeFile(this.content)
        // The record must be on disk before its name is: after a power loss the lock is complete or absent.
        await handle.datasync()
      } finally {
        await handle.close()
      }
    } catch (error) {
      await unlink(this.temp).catch(() => undefined)
      // Named by the lock file: the temporary name is ours, and would send a reader looking for a
      // file that is never there.
      throw ioError('create lock file', this.path, error)
    }
  }

  private async take(store: string): Promise<void> {
    for (let tries = 0; tries < TAKEOVER_TRIES; tries++) {
      try {
        await this.place(this.path)
        return
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw ioError('create lock file', this.path, error)
      }
      const text = await this.readRecord(this.path)
      if (text === undefined) continue
      const owner = parseOwner(text)
      if (owner === undefined) throw this.unreadableError(store, this.path, text)
      const verdict = judge(owner)
      if (verdict !== 'stale') throw this.lockedError(store, owner)
      if (!(await this.removeStale(store, this.path, text))) await pause(TAKEOVER_PAUSE_MS)
    }
    throw new MemoryError(
      'locked',
      `could not take the lock ${JSON.stringify(this.path)} of ${JSON.stringify(store)}: other processes keep taking it. Try again.`,
      { details: { file: this.path } },
    )
  }

  /**
   * Removes `file` if it still holds `text`, a stale record. Only the process that creates the
   * claim named after `text` may remove it, so between its check and its unlink nobody else can
   * replace the file. A claim left by a process that died meanwhile is removed the same way.
   * Resolves `false` when another live process is doing it (the caller waits and looks again).
   */
  private async removeStale(store: string, file: string, text: string): Promise<boolean> {
    const claim = `${this.path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
    try {
      await this.place(claim)
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw ioError('create lock file', claim, error)
      const claimText = await this.readRecord(claim)
      if (claimText === undefined) return true
      const claimer = parseOwner(claimText)
      if (claimer === undefined) throw this.unreadableError(store, claim, claimText)
      if (judge(claimer) !== 'stale') return false
      return this.removeStale(store, claim, claimText)
    }
    try {
      if ((await this.read(file)) === text) {
        await unlink(file).catch((error: unknown) => {
          if (errorCode(error) !== 'ENOENT') throw ioError('remove stale lock file', file, error)
        })
      }
    } finally {
      await unlink(claim).catch(() => undefined)
    }
    return true
  }

  /**
   * Creates `target` holding our record, failing with EEXIST if it exists. Where the file system
   * has no hard links (FAT), the file is created exclusively and then written: it can then be seen
   * empty for a moment, which {@link readRecord} allows for.
   */
  private async place(target: string): Promise<void> {
    if (!this.noLinks) {
      try {
        await link(this.temp, target)
        await syncDirectory(dirname(target)).catch(() => undefined)
        return
      } catch (error) {
        if (!NO_LINKS.has(errorCode(error) ?? '')) throw error
        this.noLinks = true
      }
    }
    const handle = await open(target, 'wx', 0o644)
    try {
      await handle.writeFile(this.content)
      await handle.datasync()
    } catch (error) {
      await handle.close().catch(() => undefined)
      await unlink(target).catch(() => undefined)
      throw error
    }
    await handle.close()
    await syncDirectory(dirname(target)).catch(() => undefined)
  }

  /**
   * Reads a lock or claim file. One that names no owner is read again a few times, in case it is
   * being written (an older version of this package, or a file system without hard links); it is
   * never taken over for being young.
   */
  private async readRecord(file: string): Promise<string | undefined> {
    let text = await this.read(file)
    for (
      let tries = 0;
      text !== undefined && parseOwner(text) === undefined && tries < UNREADABLE_TRIES;
      tries++
    ) {
      await pause(TAKEOVER_PAUSE_MS)
      text = await this.read(file)
    }
    return text
  }

  private async read(file: string): Promise<string | undefined> {
    try {
      return await readFile(file, 'utf8')
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined
      throw ioError('read lock file', file, error)
    }
  }

  private lockedError(store: string, owner: LockOwner): MemoryError {
    const mine = owner.pid === process.pid && owner.hostname === hostname()
    const advice =
      owner.hostname !== hostname()
        ? `Its liveness cannot be checked from here: close the store on ${owner.hostname}; if nothing runs it there any more, delete the lock file.`
        : mine
          ? 'This process already has the store open: use that store, or close it first.'
          : 'Close the other store first; if that process is gone, delete the lock file.'
    return new MemoryError(
      'locked',
      `${JSON.stringify(store)} is in use by process ${owner.pid} on ${owner.hostname} (lock file ${JSON.stringify(this.path)}). ${advice}`,
      { details: { file: this.path, pid: owner.pid, hostname: owner.hostname, since: owner.since } },
    )
  }

  private unreadableError(store: string, file: string, text: string): MemoryError {
    return new MemoryError(
      'locked',
      `${JSON.stringify(store)} has a lock file ${JSON.stringify(file)} that names no owner (${text.length === 0 ? 'it is empty' : 'not a lock record'}): ` +
        'an older version of this package may be writing it, or crashed while it did. ' +
        'If no process uses the store, delete that file and open again.',
      { details: { file } },
    )
  }
}
