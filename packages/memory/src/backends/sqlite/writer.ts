import type { OverLimit } from '../over-limit.js'
import type { ConversationTables, EncodedEntry } from './tables.js'

/** Where the SQLite backend's writes are made: on the main thread, or on the write worker. */
export interface Writer {
  /** Prepares the writer (opens the worker's connection); rejects with the cause. */
  open(): Promise<void>
  append(entries: readonly EncodedEntry[]): Promise<void>
  clear(id: string): Promise<boolean>
  prune(cutoff: number): Promise<string[]>
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
  }

  async clear(id: string): Promise<boolean> {
    return this.tables.clear(id)
  }

  async prune(cutoff: number): Promise<string[]> {
    return this.tables.prune(cutoff)
  }

  async close(): Promise<void> {}
}
