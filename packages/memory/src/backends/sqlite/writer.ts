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
 * Writes on the main thread's connection. Used with a caller's `database` (a connection cannot
 * move to another thread), with `worker: false`, and when the worker's module is not next to the
 * backend (bundled apps): each commit's fsync then blocks the event loop for its duration.
 */
export class InlineWriter implements Writer {
  constructor(private readonly tables: ConversationTables) {}

  async open(): Promise<void> {}

  async append(entries: readonly EncodedEntry[]): Promise<void> {
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
