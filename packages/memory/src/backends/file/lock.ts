import { open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { MemoryError } from '../../errors.js'
import { errorCode, ioError } from '../../io-error.js'

interface LockOwner {
  pid: number
  hostname: string
  since: string
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>
    if (typeof value.pid === 'number' && typeof value.hostname === 'string') {
      return { pid: value.pid, hostname: value.hostname, since: String(value.since) }
    }
  } catch {
    // An empty or torn lock file: its writer died between creating and filling it.
  }
  return undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM'
  }
}

/** An exclusive lock on a store, held as a file containing the owner's pid. */
export class FileLock {
  private readonly content: string
  private held = false

  constructor(readonly path: string) {
    this.content = JSON.stringify({ pid: process.pid, hostname: hostname(), since: new Date().toISOString() })
  }

  /**
   * Takes the lock, or rejects with `MemoryError` code `locked` when a live process holds it.
   * A lock left by a dead process on this host is taken over.
   */
  async acquire(store: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const handle = await open(this.path, 'wx')
        try {
          await handle.writeFile(this.content)
        } finally {
          await handle.close()
        }
        this.held = true
        return
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw ioError('create lock file', this.path, error)
      }
      let text: string
      try {
        text = await readFile(this.path, 'utf8')
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue
        throw ioError('read lock file', this.path, error)
      }
      let owner = parseOwner(text)
      if (owner === undefined) {
        // Possibly being written right now by another process: look again once.
        await new Promise((resolve) => setTimeout(resolve, 50))
        text = await readFile(this.path, 'utf8').catch(() => '')
        owner = parseOwner(text)
      }
      const stale = owner === undefined || (owner.hostname === hostname() && !isAlive(owner.pid))
      if (!stale && owner !== undefined) {
        throw new MemoryError(
          'locked',
          `${JSON.stringify(store)} is in use by process ${owner.pid} on ${owner.hostname} (lock file ${JSON.stringify(this.path)}). ` +
            'Close the other store first; if that process is gone, delete the lock file.',
          { details: { file: this.path, pid: owner.pid, hostname: owner.hostname, since: owner.since } },
        )
      }
      // Take over a stale lock only if it is still the one we judged: another process may have
      // taken it over in between.
      const now = await readFile(this.path, 'utf8').catch(() => undefined)
      if (now !== text) continue
      await unlink(this.path).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw ioError('remove stale lock file', this.path, error)
      })
    }
    throw new MemoryError(
      'locked',
      `could not take the lock ${JSON.stringify(this.path)}: other processes keep taking it.`,
      {
        details: { file: this.path },
      },
    )
  }

  /** Releases the lock if this process still holds it. */
  async release(): Promise<void> {
    if (!this.held) return
    this.held = false
    const text = await readFile(this.path, 'utf8').catch(() => undefined)
    if (text === this.content) await unlink(this.path).catch(() => undefined)
  }
}
