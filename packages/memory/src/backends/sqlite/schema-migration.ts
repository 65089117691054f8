import type { Message } from '../../message.js'
import { assignLegacyIds, hasId } from '../../message-id.js'
import type { SqliteDatabase } from './sqlite-database.js'
import { HOUR_MS } from './tables.js'

// Version 1 to 2: every message gets its id in a column of its own (not indexed: see schema.ts).
// The ids stored in the messages' JSON are copied by SQLite itself, without a round trip through
// JavaScript; only conversations holding messages without an id are read here.
const ADD_COLUMN = 'ALTER TABLE messages ADD COLUMN message_id TEXT'
// A row that is not JSON (written by another program) keeps no id rather than failing the whole
// migration: reading its conversation already reports it as damaged. CASE evaluates its branches
// only when needed, so json_type never sees text that is not JSON.
const COPY_IDS = `UPDATE messages SET message_id = CASE WHEN json_valid(json) THEN
  CASE WHEN json_type(json, '$.id') = 'text' THEN nullif(json_extract(json, '$.id'), '') END END`
const WITHOUT_ID = 'SELECT DISTINCT conversation FROM messages WHERE message_id IS NULL'
const ROWS = 'SELECT seq, json FROM messages WHERE conversation = ? ORDER BY seq'
const STORE_ID = 'UPDATE messages SET json = ?, message_id = ? WHERE conversation = ? AND seq = ?'

interface Row {
  readonly seq: number
  readonly json: string
}

/**
 * Brings tables of layout `from` to the current one, inside the caller's transaction (the caller
 * then sets `user_version`). Costs one pass over the messages, once per database.
 */
export function migrateSchema(db: SqliteDatabase, from: number): void {
  if (from <= 1) addMessageIds(db)
  if (from <= 2) indexLastHour(db)
}

// Version 2 to 3: the hour of each conversation's newest message, indexed in place of its exact
// time (see schema.ts). The same truncation as tables.ts's hourOf, by SQLite over the
// conversations table once.
const ADD_HOUR = 'ALTER TABLE conversations ADD COLUMN last_hour INTEGER'
const FILL_HOUR = `UPDATE conversations SET last_hour = CAST(last_time / ${HOUR_MS}.0 AS INTEGER) WHERE last_time IS NOT NULL`

function indexLastHour(db: SqliteDatabase): void {
  db.exec(ADD_HOUR)
  db.exec(FILL_HOUR)
  db.exec('DROP INDEX IF EXISTS conversations_by_last_time')
  db.exec('CREATE INDEX conversations_by_last_hour ON conversations (last_hour)')
}

function addMessageIds(db: SqliteDatabase): void {
  db.exec(ADD_COLUMN)
  db.exec(COPY_IDS)
  const rows = db.prepare(ROWS)
  const store = db.prepare(STORE_ID)
  const conversations = db.prepare(WITHOUT_ID).pluck().all() as number[]
  for (const conversation of conversations) {
    const seqs: number[] = []
    const list: Message[] = []
    for (const row of rows.all(conversation) as Row[]) {
      const message = parseMessage(row.json)
      if (message === undefined) continue
      seqs.push(row.seq)
      list.push(message)
    }
    const had = list.map(hasId)
    // The ids the file backend derives for such messages (Python-bot files), from the list as it
    // is stored: the same whichever backend a conversation was read from. They are written into
    // the message too, as the file backend does at its next rewrite, so history() shows them and
    // they never change afterwards.
    assignLegacyIds(list, { inPlace: true })
    for (let i = 0; i < list.length; i++) {
      if (had[i] === true) continue
      const message = list[i] as Message
      store.run(JSON.stringify(message), message.id, conversation, seqs[i])
    }
  }
}

/** The message a row holds, or `undefined` for text that is not a JSON object. */
function parseMessage(json: string): Message | undefined {
  try {
    const value: unknown = JSON.parse(json)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Message)
      : undefined
  } catch {
    return undefined
  }
}
