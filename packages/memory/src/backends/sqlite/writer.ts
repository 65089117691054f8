import type { OverLimit } from '../over-limit.js'
import type { ConversationTables, EncodedEntry } from './tables.js'

/** Where a writer's commits ran since open; see CommitCounts. */
export interface WriterCommits {
  mainThread: number
  worker: number
  handedOverBusy: number
  handedOverSlow: number
}

export function zeroCommits(): WriterCommits {
  return { mainThread: 0, worker: 0, handedOverBusy: 0, handedOverSlow: 0 }
}

/** Where the SQLite backend's writes are made: on the main thread, or on the write worker. */
export interface Writer {
  /** The writes committed so far, by thread. */
  readonly commits: WriterCommits
  /** Prepares the writer (opens the worker's connection); rejects with the cause. */
  open(): Promise<void>
  append(entries: readonly EncodedEntry[]): Promise<void>
  clear(id: string): Promise<boolean>
  prune(cutoff: number): Promise<string[]>
  /** Called before each read on the main thread's connection (see AutoWriter). */
  beforeRead?(): void
  /** Releases the writer's connection, after the backend closed its own. */
  close(): Promise<void>
}

/**
 * Told, on the main thread and at most once per writer, of the conversations longer than
 * `maxMessages`, before the first write that could trim them commits.
 */
export type OverLimitListener = (found: OverLimit) => void

/**
 * Writes on the main thread's connection. Used with a caller's `database` (a connection cannot
 * move to another thread), with `worker: false`, and when the worker's module is not next to the
 * backend (bundled apps): each commit's fsync then blocks the event loop for its duration.
 */
export class InlineWriter implements Writer {
  private checked = false
  readonly commits: WriterCommits = zeroCommits()

  constructor(
    private readonly tables: ConversationTables,
    private readonly overLimit: OverLimitListener,
  ) {}

  async open(): Promise<void> {}

  async append(entries: readonly EncodedEntry[]): Promise<void> {
    // At the first write rather than at open: the check reads the whole conversations table,
    // and open must not take longer as the database grows. Only append trims; if the check
    // fails, so does this write (the store retries it), so nothing is trimmed unannounced.
    if (!this.checked) {
      const found = this.tables.overLimit()
      this.checked = true
      if (found !== undefined) this.overLimit(found)
    }
    this.tables.append(entries)
    this.commits.mainThread++
  }

  async clear(id: string): Promise<boolean> {
    const cleared = this.tables.clear(id)
    this.commits.mainThread++
    return cleared
  }

  async prune(cutoff: number): Promise<string[]> {
    const pruned = this.tables.prune(cutoff)
    this.commits.mainThread++
    return pruned
  }

  async close(): Promise<void> {}
}
