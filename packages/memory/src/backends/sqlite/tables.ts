import { type Message, messageTime } from '../../message.js'
import type { OverLimit } from '../over-limit.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

/** A message as the tables take it, serialised by the main thread. */
export interface EncodedMessage {
  /** The message's JSON text. */
  readonly json: string
  /** The message's id, or null when it has none. */
  readonly id: string | null
  /** Its `timestamp` as given, or null. */
  readonly timestamp: string | null
  /** Its time in epoch milliseconds, or null when it cannot be read. */
  readonly time: number | null
}

/** One change of an entry with upserts or removes. */
export type EncodedOperation =
  | ({ readonly op: 'add' | 'upsert'; readonly ifPresent?: true } & EncodedMessage)
  | { readonly op: 'remove'; readonly id: string }

/** One conversation's part of a batch, serialised by the main thread (the form sent to the write worker). */
export interface EncodedEntry {
  readonly id: string
  /** The messages' JSON text, oldest first (empty when `operations` is given). */
  readonly json: readonly string[]
  /** Each message's id, or null when it has none, in the order of `json`. */
  readonly messageIds: readonly (string | null)[]
  /** The newest message's `timestamp` as given, or null. */
  readonly lastTimestamp: string | null
  /** The newest message's time in epoch milliseconds, or null when it cannot be read. */
  readonly lastTime: number | null
  /** The changes in order, for an entry that holds upserts or removes. */
  readonly operations?: readonly EncodedOperation[]
}

/** A row of the conversations table as listed. */
export interface ConversationRow {
  readonly key: number
  readonly id: string
  readonly count: number
  readonly last_timestamp: string | null
}

/**
 * The length of the time buckets of `conversations.last_hour` (see schema.ts): an hour. The index
 * on the bucket changes when a conversation's newest message enters another hour, not at each
 * message; prune reads the conversations of the cutoff's own hour beyond those it removes.
 */
export const HOUR_MS = 3_600_000

/**
 * The bucket of a time: the same truncation as SQLite's `CAST(t / 3600000.0 AS INTEGER)` (the
 * migration's), and never decreasing as the time grows, so a time before a cutoff is never in a
 * later bucket than the cutoff's.
 */
export function hourOf(time: number | null): number | null {
  return time === null ? null : Math.trunc(time / HOUR_MS)
}

/** Every statement of the backend, by name (the tests check each one's query plan). */
export const SQL = {
  find: 'SELECT key, count, next_seq, last_hour FROM conversations WHERE id = ?',
  exists: 'SELECT 1 FROM conversations WHERE id = ?',
  create:
    'INSERT INTO conversations (id, count, next_seq, last_timestamp, last_time, last_hour) VALUES (?, ?, ?, ?, ?, ?)',
  // Without last_hour: SQLite then leaves its index alone, one page fewer in each commit.
  update: 'UPDATE conversations SET count = ?, next_seq = ?, last_timestamp = ?, last_time = ? WHERE key = ?',
  updateHour:
    'UPDATE conversations SET count = ?, next_seq = ?, last_timestamp = ?, last_time = ?, last_hour = ? WHERE key = ?',
  updateCounts: 'UPDATE conversations SET count = ?, next_seq = ? WHERE key = ?',
  insert: 'INSERT INTO messages (conversation, seq, json, message_id) VALUES (?, ?, ?, ?)',
  // The oldest rows beyond the newest maxMessages. Removes leave gaps in the sequence numbers, so
  // the first row kept is found by walking the oldest rows, which are the ones deleted anyway.
  trim: 'DELETE FROM messages WHERE conversation = ? AND seq < (SELECT seq FROM messages WHERE conversation = ? ORDER BY seq LIMIT 1 OFFSET ?)',
  // The newest message with that id (ids are unique per conversation unless a caller gave one
  // twice; then the newest is the one meant, as on every backend). Planned as a walk of the
  // conversation's rows through the primary key, newest first, stopping at the first match: no
  // index on the id (see schema.ts), no sort, no other conversation's rows. It reads as many rows
  // as the message is old; an id the conversation does not hold reads all of them (<= maxMessages).
  findMessage: 'SELECT seq FROM messages WHERE conversation = ? AND message_id = ? ORDER BY seq DESC LIMIT 1',
  replace: 'UPDATE messages SET json = ?, message_id = ? WHERE conversation = ? AND seq = ?',
  deleteMessage: 'DELETE FROM messages WHERE conversation = ? AND seq = ?',
  newest: 'SELECT json FROM messages WHERE conversation = ? ORDER BY seq DESC LIMIT 1',
  read: 'SELECT json FROM messages WHERE conversation = (SELECT key FROM conversations WHERE id = ?) ORDER BY seq DESC LIMIT ?',
  // The index on last_hour: the idle conversations, and those of the cutoff's hour, are visited.
  idle: 'SELECT id FROM conversations WHERE last_hour <= ? AND last_time < ?',
  list: 'SELECT key, id, count, last_timestamp FROM conversations WHERE key > ? ORDER BY key LIMIT ?',
  // Each conversation counted up to maxMessages, as read() returns it: a database written with a
  // larger limit holds longer ones until their next write trims them. One pass over the table.
  counts: 'SELECT count(*) AS conversations, coalesce(sum(min(count, ?)), 0) AS messages FROM conversations',
  // A scan of the conversations table (count has no index: it would be one more page written in
  // every commit), so run by the writer before its first write, never on the main thread at open.
  // With a single max(), SQLite takes the bare column id from the row that holds the maximum.
  overLimit: 'SELECT count(*) AS conversations, max(count) AS longest, id FROM conversations WHERE count > ?',
  key: 'SELECT key FROM conversations WHERE id = ?',
  deleteMessages: 'DELETE FROM messages WHERE conversation = ?',
  deleteConversation: 'DELETE FROM conversations WHERE key = ?',
} as const

interface CountRow {
  readonly key: number
  readonly count: number
  readonly next_seq: number
  readonly last_hour: number | null
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

  /**
   * Writes a batch, in one transaction (one commit, one WAL sync): appends each entry's messages
   * or applies its operations in order, then trims the conversation to maxMessages.
   */
  append(entries: readonly EncodedEntry[]): void {
    const find = this.statement(SQL.find)
    const create = this.statement(SQL.create)
    this.transaction(() => {
      for (const entry of entries) {
        let row = find.get(entry.id) as CountRow | undefined
        if (row === undefined) {
          const key = Number(create.run(entry.id, 0, 0, null, null, null).lastInsertRowid)
          row = { key, count: 0, next_seq: 0, last_hour: null }
        }
        if (entry.operations === undefined) this.appendMessages(row, entry)
        else this.applyOperations(row, entry.operations)
      }
    })
  }

  private appendMessages(row: CountRow, entry: EncodedEntry): void {
    const insert = this.statement(SQL.insert)
    const n = entry.json.length
    const start = row.next_seq
    // Messages that would be trimmed at once are not written at all.
    const from = Math.max(0, n - this.maxMessages)
    for (let i = from; i < n; i++) insert.run(row.key, start + i, entry.json[i], entry.messageIds[i] ?? null)
    const count = this.trim(row.key, row.count + n - from)
    this.summarise(row, count, start + n, entry.lastTimestamp, entry.lastTime)
  }

  /** Writes a conversation's row after a change; its bucket only when the newest message moved to another. */
  private summarise(
    row: CountRow,
    count: number,
    next: number,
    lastTimestamp: string | null,
    lastTime: number | null,
  ): void {
    const hour = hourOf(lastTime)
    if (hour === row.last_hour) this.statement(SQL.update).run(count, next, lastTimestamp, lastTime, row.key)
    else this.statement(SQL.updateHour).run(count, next, lastTimestamp, lastTime, hour, row.key)
  }

  /**
   * Applies upserts, removes and adds in order. Each one writes its own row, found by walking the
   * conversation from its newest row (findMessage): never a rewrite of the conversation.
   */
  private applyOperations(row: CountRow, operations: readonly EncodedOperation[]): void {
    const { key } = row
    const insert = this.statement(SQL.insert)
    const findMessage = this.statement(SQL.findMessage).pluck()
    let { next_seq: next } = row
    // Trimmed as each change would leave it alone (see applyOperations in backends/operations.ts):
    // first to maxMessages, then after each row appended, so a later upsert or remove of the batch
    // never finds a message that history() no longer shows.
    let count = this.trim(key, row.count)
    // What the summary row learns of the newest message: nothing changed, a message the batch
    // puts last, or unknown (the newest was replaced or removed: read it back at the end).
    let last: { timestamp: string | null; time: number | null } | 'unchanged' | 'unknown' = 'unchanged'
    for (const operation of operations) {
      const at =
        operation.op === 'add' || operation.id === null
          ? undefined
          : (findMessage.get(key, operation.id) as number | undefined)
      if (operation.op === 'remove') {
        if (at === undefined) continue
        this.statement(SQL.deleteMessage).run(key, at)
        count--
        last = 'unknown'
      } else if (at !== undefined) {
        this.statement(SQL.replace).run(operation.json, operation.id, key, at)
        // The row just before next_seq is the newest; another one may be too, if newer were removed.
        last = at === next - 1 ? operation : 'unknown'
      } else if (operation.op === 'add' || operation.ifPresent !== true) {
        insert.run(key, next++, operation.json, operation.id)
        count = this.trim(key, count + 1)
        last = operation
      }
    }
    if (last === 'unchanged') {
      this.statement(SQL.updateCounts).run(count, next, key)
      return
    }
    if (last === 'unknown') last = this.newest(key)
    this.summarise(row, count, next, last.timestamp, last.time)
  }

  /** Deletes the oldest rows beyond maxMessages of a conversation of `count` rows; returns the count left. */
  private trim(key: number, count: number): number {
    const excess = count - this.maxMessages
    if (excess <= 0) return count
    this.statement(SQL.trim).run(key, key, excess)
    return this.maxMessages
  }

  /** The timestamp of a conversation's newest message, read back after it was replaced or removed. */
  private newest(key: number): { timestamp: string | null; time: number | null } {
    const json = this.statement(SQL.newest).pluck().get(key) as string | undefined
    let message: Message | undefined
    try {
      const value: unknown = json === undefined ? undefined : JSON.parse(json)
      if (typeof value === 'object' && value !== null) message = value as Message
    } catch {
      // Not JSON (written by another program): as a timestamp that cannot be read, kept by prune.
    }
    const timestamp = typeof message?.timestamp === 'string' ? message.timestamp : null
    const time = messageTime(message)
    return { timestamp, time: Number.isNaN(time) ? null : time }
  }

  /** The JSON text of the newest `limit` messages (all when undefined), oldest first. */
  read(id: string, limit: number | undefined): string[] {
    const rows = this.statement(SQL.read)
      .pluck()
      .all(id, limit ?? -1) as string[]
    return rows.reverse()
  }

  /** True when the conversation has a row, even with no message left. */
  has(id: string): boolean {
    return this.statement(SQL.exists).get(id) !== undefined
  }

  /** Deletes a conversation; true if it existed. */
  clear(id: string): boolean {
    return this.transaction(() => this.remove(id))
  }

  /** Deletes the conversations whose newest message is older than `cutoff`; returns their ids. */
  prune(cutoff: number): string[] {
    return this.transaction(() => {
      const hour = Math.trunc(cutoff / HOUR_MS)
      const ids = this.statement(SQL.idle).pluck().all(hour, cutoff) as string[]
      for (const id of ids) this.remove(id)
      return ids
    })
  }

  /** Up to `limit` conversations after the one with key `after`, in key order. */
  list(after: number, limit: number): ConversationRow[] {
    return this.statement(SQL.list).all(after, limit) as ConversationRow[]
  }

  /** Conversations held, and their messages as read() returns them (up to maxMessages each). */
  counts(): { conversations: number; messages: number } {
    const row = this.statement(SQL.counts).get(this.maxMessages) as {
      conversations: number
      messages: number
    }
    return { conversations: row.conversations, messages: row.messages }
  }

  /**
   * The conversations longer than maxMessages (a database written with a larger limit): they lose
   * their oldest messages at their next write. Reads every row of the conversations table.
   */
  overLimit(): OverLimit | undefined {
    const row = this.statement(SQL.overLimit).get(this.maxMessages) as {
      conversations: number
      longest: number | null
      id: string | null
    }
    if (row.conversations === 0) return undefined
    return { conversations: row.conversations, longestId: row.id ?? '', longest: row.longest ?? 0 }
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
  // Prepared once (statement()) rather than parsed by exec() at each commit.
  private transaction<T>(body: () => T): T {
    this.statement('BEGIN IMMEDIATE').run()
    try {
      const result = body()
      this.statement('COMMIT').run()
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
