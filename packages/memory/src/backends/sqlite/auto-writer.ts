import type { SqliteDatabase } from './sqlite-database.js'
import type { ConversationTables, EncodedEntry } from './tables.js'
import type { WorkerWriter } from './worker-writer.js'
import type { Writer, WriterCommits } from './writer.js'

/**
 * When the adaptive writer commits on the main thread. The numbers come from a strict add of one
 * or two messages (WAL, synchronous = FULL) on a local SSD: 0.2 to 0.3 ms inline, against the
 * store's budget of 0.5 ms of main-thread time per save.
 */
export interface AutoTuning {
  /** A batch of more messages than this goes to the worker: its commit costs more than a fsync. */
  readonly bigMessages: number
  /** A batch of more JSON than this (in UTF-16 code units) goes to the worker, for the same reason. */
  readonly bigBytes: number
  /**
   * Weight of the newest commit in the smoothed commit time, each commit counted up to twice
   * slowAverageMs (1 ms), the estimate starting at half of it. On a shared machine 1 commit in 10
   * can take 1 to 15 ms (other processes' I/O, the thread descheduled) while the median stays
   * near 0.25 ms: counted whole, each of those would switch; clipped, one adds at most 0.04 ms,
   * and the estimate (about the last 20 commits) stays near 0.3 ms. A disk that got slow for good
   * (every commit 1 ms or more) switches at the 8th commit.
   */
  readonly smoothing: number
  /** Above this smoothed commit time (ms), commits leave the main thread: the save budget. */
  readonly slowAverageMs: number
  /**
   * Two commits above this (ms) within `stallWindow` commits switch at once: the disk stalls, do
   * not wait for the average. One alone does not: on a shared machine about 1 commit in 1,000 to
   * 4,000 takes 10 to 40 ms and the next ones are fast again (switching at each cost the strict
   * throughput of `worker: true` for 5 s each time, in a scratch measurement most of the time). A
   * single commit above `stallMs` switches alone. With the average, this bounds what a disk that
   * turns slow costs the event loop per cooldown: 2 commits of a stalling disk, at most 8 of a disk
   * at 1 to 10 ms a commit (8 to 24 ms per 5 s at 1 to 3 ms, under 0.5 %).
   */
  readonly slowCommitMs: number
  /** See slowCommitMs. */
  readonly stallWindow: number
  /** A single commit above this (ms) switches at once. */
  readonly stallMs: number
  /**
   * How long (ms) everything goes to the worker after a slow or locked commit, before small
   * commits are tried on the main thread again. Long enough that a disk that stays slow costs
   * the event loop a fraction of a percent (see slowCommitMs), short enough that a disk that was
   * only busy for a while (a backup, another process's checkpoint) gets the fast path back soon.
   */
  readonly cooldownMs: number
  /**
   * Commits on the main thread after which the worker copies the WAL into the database. The
   * main connection never checkpoints (that would copy up to 40 MB of WAL on the event loop).
   * A strict add of one message adds about 3 pages (12 KB) of WAL: 1,000 of them make a WAL file
   * of 12 to 15 MB, a third of what `worker: false` lets grow. The checkpoint waits its turn with
   * the writes, so a shorter interval costs the strict adds more: at 300 commits they made 0.83 to
   * 0.94 of what `worker: false` made in scratch runs, at 1,000 0.96 to 0.99. A WAL file that
   * grows syncs more than one that is overwritten, but only the first 1,000 commits of a new
   * database grow it (none was found slow in 36,000 commits on 3 new databases).
   */
  readonly checkpointEvery: number
}

export const AUTO_TUNING: AutoTuning = {
  bigMessages: 16,
  bigBytes: 64 * 1024,
  smoothing: 0.05,
  slowAverageMs: 0.5,
  slowCommitMs: 10,
  stallWindow: 100,
  stallMs: 50,
  cooldownMs: 5000,
  checkpointEvery: 1000,
}

type Handover = 'handedOverBusy' | 'handedOverSlow'

/** True for a batch whose commit costs more than the sync of a small one. */
function isBig(entries: readonly EncodedEntry[], tuning: AutoTuning): boolean {
  let messages = 0
  let bytes = 0
  for (const entry of entries) {
    const operations = entry.operations
    if (operations === undefined) {
      messages += entry.json.length
      if (messages > tuning.bigMessages) return true
      for (const json of entry.json) bytes += json.length
    } else {
      messages += operations.length
      if (messages > tuning.bigMessages) return true
      for (const operation of operations) bytes += 'json' in operation ? operation.json.length : 0
    }
    if (bytes > tuning.bigBytes) return true
  }
  return false
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/**
 * The default writer of a database file (`worker: 'auto'`): a small append commits on the main
 * thread's connection, which is faster than the two thread hops of the worker (a strict add waits
 * for its commit), and everything else commits on the write worker: big batches, clear, prune,
 * the first append (the worker looks for conversations over maxMessages before it), and every
 * write for a cooldown after a commit on the main thread was slow or found the database locked.
 *
 * Operations run one at a time in the order called, wherever they commit: a small append never
 * overtakes a batch still on the worker, and the reverse.
 */
export class AutoWriter implements Writer {
  /** Settles when the operations called so far have; never rejects. */
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0
  /** True once an append committed on the worker, after its over-limit check. */
  private checked = false
  /** Smoothed commit time on the main thread (ms); undefined until a commit is measured. */
  private average: number | undefined
  /** The first commit on the main thread prepares its statements: not a measure of the disk. */
  private warm = false
  /** performance.now() until which every write goes to the worker. */
  private coolUntil = 0
  private cooling: Handover = 'handedOverSlow'
  private sinceCheckpoint = 0
  /** Commits measured, and the number of the last one over slowCommitMs. */
  private measured = 0
  private lastStall = Number.NEGATIVE_INFINITY
  private readonly own = { mainThread: 0, handedOverBusy: 0, handedOverSlow: 0 }
  private readonly noWait: string
  private readonly wait: string
  // Whether the main connection's busy timeout is 0 now (set for commits, see appendNow).
  private waitOff = false

  constructor(
    private readonly db: SqliteDatabase,
    private readonly tables: ConversationTables,
    private readonly worker: WorkerWriter,
    busyTimeoutMs: number,
    private readonly tuning: AutoTuning = AUTO_TUNING,
  ) {
    // A commit on the main thread must never wait in SQLite's busy handler, which would block the
    // event loop for up to busyTimeoutMs: it tries once, and a locked database hands the commit
    // to the worker, which waits. Reads keep the busy timeout (set back after each attempt).
    // Not prepared statements: SQLite applies a PRAGMA when it prepares it, so running a prepared
    // one again changes nothing (it only seemed to work where a schema change re-prepared it).
    this.noWait = `busy_timeout = 0`
    this.wait = `busy_timeout = ${busyTimeoutMs}`
  }

  /** Gives reads on the main connection the busy timeout back, if a commit switched it off. */
  beforeRead(): void {
    if (!this.waitOff) return
    this.db.pragma(this.wait)
    this.waitOff = false
  }

  async open(): Promise<void> {
    // The worker checkpoints instead (see checkpointEvery); per connection, so only this one.
    this.db.pragma('wal_autocheckpoint = 0')
    await this.worker.open()
  }

  get commits(): WriterCommits {
    return { ...this.own, worker: this.worker.commits.worker }
  }

  append(entries: readonly EncodedEntry[]): Promise<void> {
    const appended = this.serial(() => this.appendNow(entries))
    if (this.sinceCheckpoint >= this.tuning.checkpointEvery) {
      this.sinceCheckpoint = 0
      // In turn with the writes, so no commit of this writer adds to the WAL while the worker
      // copies it, and the next one can start the WAL file over. A failed checkpoint is retried
      // after as many commits again (the next connection to close checkpoints too).
      this.serial(() => this.worker.checkpoint()).catch(() => undefined)
    }
    return appended
  }

  clear(id: string): Promise<boolean> {
    return this.serial(() => this.worker.clear(id))
  }

  prune(cutoff: number): Promise<string[]> {
    return this.serial(() => this.worker.prune(cutoff))
  }

  async close(): Promise<void> {
    await this.tail
    await this.worker.close()
  }

  /** Stops the worker without waiting for anything: used when opening the store failed. */
  terminate(): Promise<void> {
    return this.worker.terminate()
  }

  /** Runs `op` after every operation called before it has settled; at once when there is none. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const idle = this.pending === 0
    this.pending++
    // At once when idle: a small append then commits within the caller's call, with no promise
    // step before it.
    const result = idle ? op() : this.tail.then(op)
    this.tail = result.then(this.settled, this.settled)
    return result
  }

  private readonly settled = (): void => {
    this.pending--
  }

  private async appendNow(entries: readonly EncodedEntry[]): Promise<void> {
    if (!this.checked || isBig(entries, this.tuning)) {
      await this.worker.append(entries)
      this.checked = true
      return
    }
    if (performance.now() < this.coolUntil) return this.handOver(entries, this.cooling)
    let took: number
    // Switched off once for a run of commits, and on again only before a read (beforeRead): a
    // PRAGMA is prepared each time, two per commit cost about a tenth of a strict add.
    if (!this.waitOff) {
      this.db.pragma(this.noWait)
      this.waitOff = true
    }
    try {
      const started = performance.now()
      this.tables.append(entries)
      took = performance.now() - started
    } catch (error) {
      // BEGIN IMMEDIATE found another connection's lock: nothing was written, the worker writes it.
      if (!isBusy(error)) throw error
      this.coolDown('handedOverBusy')
      return this.handOver(entries, 'handedOverBusy')
    }
    this.own.mainThread++
    this.sinceCheckpoint++
    this.measure(took)
  }

  private async handOver(entries: readonly EncodedEntry[], reason: Handover): Promise<void> {
    await this.worker.append(entries)
    this.own[reason]++
  }

  private measure(took: number): void {
    if (!this.warm) {
      this.warm = true
      return
    }
    const { smoothing, slowAverageMs, slowCommitMs, stallWindow, stallMs } = this.tuning
    this.measured++
    let stalled = took > stallMs
    if (took > slowCommitMs) {
      stalled ||= this.measured - this.lastStall <= stallWindow
      this.lastStall = this.measured
    }
    // Each commit counts up to twice the limit: a stall of the disk is the single-commit test's.
    const sample = Math.min(took, 2 * slowAverageMs)
    // From half the limit at open and after each cooldown, not from one commit's time: on a busy
    // machine one commit in ten can take over 0.5 ms while most take 0.2 to 0.3 ms.
    const previous = this.average ?? slowAverageMs / 2
    const average = previous + smoothing * (sample - previous)
    this.average = average
    if (stalled || average > slowAverageMs) this.coolDown('handedOverSlow')
  }

  private coolDown(reason: Handover): void {
    this.coolUntil = performance.now() + this.tuning.cooldownMs
    this.cooling = reason
    this.average = undefined
    this.lastStall = Number.NEGATIVE_INFINITY
  }
}
