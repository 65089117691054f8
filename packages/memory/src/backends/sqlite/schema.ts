import { MemoryError } from '../../errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

/** The layout version written to `PRAGMA user_version`; bump it with a migration when tables change. */
export const SCHEMA_VERSION = 1

/** `PRAGMA application_id` of our databases ("TBME"), so a foreign database is told apart from ours. */
export const APPLICATION_ID = 0x54424d45

// `conversations` holds one row per conversation with everything a listing, a count or a prune
// needs, so none of them reads `messages`. A conversation's messages are the contiguous sequence
// numbers [next_seq - count, next_seq): reading the newest n is one range scan of the primary key,
// and trimming to maxMessages deletes one range. `last_time` is the epoch milliseconds of the
// newest message (NULL when its timestamp cannot be read, so prune never removes it).
const TABLES = `
CREATE TABLE conversations (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  count INTEGER NOT NULL,
  next_seq INTEGER NOT NULL,
  last_timestamp TEXT,
  last_time REAL
);
CREATE INDEX conversations_by_last_time ON conversations (last_time);
CREATE TABLE messages (
  conversation INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
`

const OUR_TABLES = ['conversations', 'messages']

function tableNames(db: SqliteDatabase): string[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[]
}

/**
 * Checks that the database is one of ours in a layout this version understands, creating the
 * tables in an empty one. Throws a `MemoryError` (`corrupt`) for a foreign database or a newer
 * layout; SQLite's own errors (not a database, locked, read-only) are left to the caller to wrap.
 */
export function ensureSchema(db: SqliteDatabase, where: string): void {
  if (checkSchema(db, where)) return
  // IMMEDIATE takes the write lock first: two processes creating the same new file one after the
  // other, the second finds the tables the first made.
  db.exec('BEGIN IMMEDIATE')
  try {
    if (!checkSchema(db, where)) {
      db.exec(TABLES)
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    }
    db.exec('COMMIT')
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  }
}

/**
 * True when the tables are there in our layout, false for an empty database; throws a
 * `MemoryError` (`corrupt`) for a foreign, newer or damaged one. Reads only: it runs before
 * anything is changed in a file, so a database that is not ours is left as it was.
 */
export function checkSchema(db: SqliteDatabase, where: string): boolean {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const version = db.pragma('user_version', { simple: true }) as number
  const tables = tableNames(db)
  if (applicationId === 0 && tables.length === 0) return false
  if (applicationId !== APPLICATION_ID) {
    throw new MemoryError(
      'corrupt',
      `${where} is a SQLite database of another application (tables: ${tables.join(', ') || 'none'}), not a @taurobot/memory store. Point path at a new file; the store creates it.`,
      { details: { file: where, tables, applicationId } },
    )
  }
  if (version > SCHEMA_VERSION) {
    throw new MemoryError(
      'corrupt',
      `${where} was written by a newer @taurobot/memory (schema version ${version}; this one reads up to ${SCHEMA_VERSION}). Upgrade @taurobot/memory to open it.`,
      { details: { file: where, version, supported: SCHEMA_VERSION } },
    )
  }
  const missing = OUR_TABLES.filter((name) => !tables.includes(name))
  if (version !== SCHEMA_VERSION || missing.length > 0) {
    throw new MemoryError(
      'corrupt',
      `${where} is marked as a @taurobot/memory store but its schema is damaged (version ${version}${missing.length > 0 ? `, missing tables ${missing.join(', ')}` : ''}). Restore it from a backup or move it aside to start a new one.`,
      { details: { file: where, version, missing } },
    )
  }
  return true
}
