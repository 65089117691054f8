import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

/** One conversation's part of a batch, serialised by the main thread (the form sent to the write worker). */
export interface EncodedEntry {
  readonly id: string
  /** The messages' JSON text, oldest first. */
  readonly json: readonly string[]
  /** The newest message's `timestamp` as given, or null. */
  readonly lastTimestamp: string | null
  /** The newest message's time in epoch milliseconds, or null when it cannot be read. */
  readonly lastTime: number | null
}

/** A row of the conversations table as listed. */
export interface ConversationRow {
  readonly key: number
  readonly id: string
  readonly count: number
  readonly last_timestamp: string | null
}

/** Every statement of the backend, by name (the tests check each one's query plan). */
export const SQL = {
  find: 'SELECT key, count, next_seq FROM conversations WHERE id = ?',
  create: 'INSERT INTO conversations (id, count, next_seq, last_timestamp, last_time) VALUES (?, ?, ?, ?, ?)',
  update: 'UPDATE conversations SET count = ?, next_seq = ?, last_timestamp = ?, last_time = ? WHERE key = ?',
  insert: 'INSERT INTO messages (conversation, seq, json) VALUES (?, ?, ?)',
  trim: 'DELETE FROM messages WHERE conversation = ? AND seq < ?',
  read: 'SELECT json FROM messages WHERE conversation = (SELECT key FROM conversations WHERE id = ?) ORDER BY seq DESC LIMIT ?',
  idle: 'SELECT id FROM conversations WHERE last_time < ?',
  list: 'SELECT key, id, count, last_timestamp FROM conversations WHERE key > ? ORDER BY key LIMIT ?',
  counts: 'SELECT count(*) AS conversations, coalesce(sum(count), 0) AS messages FROM conversations',
  key: 'SELECT key FROM conversations WHERE id = ?',
  deleteMessages: 'DELETE FROM messages WHERE conversation = ?',
  deleteConversation: 'DELETE FROM conversations WHERE key = ?',
} as const

interface CountRow {
  readonly key: number
  readonly count: number
  readonly next_seq: number
}

/**
 * The queries of the SQLite backend over one connection. Each method is one statement or one
 * transaction, and costs what it touches (the batch, the rows returned, the rows deleted), never
 * the size of the history. Statements are prepared on first use: the main thread's connection
 * never prepares the writes that the worker's makes.
 */
export class ConversationTables {
  private readonly statements = new Map<string, SqliteStatement>()

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxMessages: number,
  ) {}

  private statement(sql: string): SqliteStatement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** Appends a batch and trims each conversation, in one transaction (one commit, one WAL sync). */
  append(entries: readonly EncodedEntry[]): void {
    const max = this.maxMessages
    const find = this.statement(SQL.find)
    const create = this.statement(SQL.create)
    const update = this.statement(SQL.update)
    const insert = this.statement(SQL.insert)
    const trim = this.statement(SQL.trim)
    this.transaction(() => {
      for (const entry of entries) {
        const n = entry.json.length
        const row = find.get(entry.id) as CountRow | undefined
        const start = row === undefined ? 0 : row.next_seq
        const next = start + n
        const count = Math.min((row?.count ?? 0) + n, max)
        let key: number
        if (row === undefined) {
          key = Number(create.run(entry.id, count, next, entry.lastTimestamp, entry.lastTime).lastInsertRowid)
        } else {
          key = row.key
          update.run(count, next, entry.lastTimestamp, entry.lastTime, key)
          // Only the rows that fell out of the window: [oldest kept, next - max).
          if (row.count + n > max) trim.run(key, next - max)
        }
        // Messages that would be trimmed at once are not written at all.
        for (let i = Math.max(0, n - max); i < n; i++) insert.run(key, start + i, entry.json[i])
      }
    })
  }

  /** The JSON text of the newest `limit` messages (all when undefined), oldest first. */
  read(id: string, limit: number | undefined): string[] {
    const rows = this.statement(SQL.read)
      .pluck()
      .all(id, limit ?? -1) as string[]
    return rows.reverse()
  }

  /** Deletes a conversation; true if it existed. */
  clear(id: string): boolean {
    return this.transaction(() => this.remove(id))
  }

  /** Deletes the conversations whose newest message is older than `cutoff`; returns their ids. */
  prune(cutoff: number): string[] {
    return this.transaction(() => {
      // The index on last_time: only the idle conversations are visited.
      const ids = this.statement(SQL.idle).pluck().all(cutoff) as string[]
      for (const id of ids) this.remove(id)
      return ids
    })
  }

  /** Up to `limit` conversations after the one with key `after`, in key order. */
  list(after: number, limit: number): ConversationRow[] {
    return this.statement(SQL.list).all(after, limit) as ConversationRow[]
  }

  /** Conversations and messages held, summed over the conversations table. */
  counts(): { conversations: number; messages: number } {
    const row = this.statement(SQL.counts).get() as { conversations: number; messages: number }
    return { conversations: row.conversations, messages: row.messages }
  }

  private remove(id: string): boolean {
    const key = this.statement(SQL.key).pluck().get(id) as number | undefined
    if (key === undefined) return false
    this.statement(SQL.deleteMessages).run(key)
    this.statement(SQL.deleteConversation).run(key)
    return true
  }

  // BEGIN IMMEDIATE takes the write lock before reading: with several processes on one file, a
  // deferred transaction that read first could not upgrade to writing and would fail at once
  // instead of waiting for the busy timeout.
  private transaction<T>(body: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = body()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      // A failed COMMIT (disk full) may leave the transaction open: roll it back so that none of
      // the batch is visible and the connection can be used again.
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK')
        } catch {
          // SQLite rolled back already.
        }
      }
      throw error
    }
  }
}
