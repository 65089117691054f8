import { MemoryError } from '../../errors.js'
import type { DatabasePlace } from './database-place.js'
import { migrateSchema } from './schema-migration.js'
import type { SqliteDatabase } from './sqlite-database.js'

/**
 * The layout version written to `PRAGMA user_version`; bump it with a migration
 * (schema-migration.ts) when tables change. 1: no message ids; 2: `messages.message_id`;
 * 3: `conversations.last_hour`, indexed instead of `last_time`.
 */
export const SCHEMA_VERSION = 3

/** `PRAGMA application_id` of our databases ("TBME"), so a foreign database is told apart from ours. */
export const APPLICATION_ID = 0x54424d45

// `conversations` holds one row per conversation with everything a listing, a count or a prune
// needs, so none of them reads `messages`. A conversation's messages have increasing sequence
// numbers below next_seq (with gaps where messages were removed by id): reading the newest n is
// one range scan of the primary key, and trimming to maxMessages deletes one range, the oldest.
// `count` is the number of rows, `last_time` the epoch milliseconds of the newest message (NULL
// when its timestamp cannot be read, or the conversation is empty, so prune never removes it).
// Prune finds the idle conversations through an index on `last_hour`, the hour of `last_time`
// (tables.ts, hourOf), not on `last_time` itself: an index on the exact time has its entry moved
// at every message, one more page written and synced in each commit, where the hour's entry
// moves once an hour at most. Prune then reads the conversations of the cutoff's hour too and
// keeps those with a later `last_time`. `last_hour` comes last, where the migration from
// version 2 adds it.
// `message_id` is the message's `id` (NULL for a message written without one through the backend
// directly). It has no index on purpose: ids are random UUIDs, so an index on (conversation,
// message_id) takes each insert to a random page of its B-tree, and made large batched appends
// about 2.5 times slower. Upsert and remove find their row by walking the conversation's rows
// from the newest through the primary key instead (tables.ts): short for the recent messages they
// usually concern, at most maxMessages rows. The column spares that walk a JSON parse per row. It
// comes last, where the migration from version 1 adds it, so both paths give one layout.
const TABLES = `
CREATE TABLE conversations (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  count INTEGER NOT NULL,
  next_seq INTEGER NOT NULL,
  last_timestamp TEXT,
  last_time REAL,
  last_hour INTEGER
);
CREATE INDEX conversations_by_last_hour ON conversations (last_hour);
CREATE TABLE messages (
  conversation INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  json TEXT NOT NULL,
  message_id TEXT,
  PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
`

// An index that development builds of schema version 2 created (never released): dropped at open,
// since every insert would keep paying for it while no statement uses it.
const STALE_INDEX = 'messages_by_id'

const OUR_TABLES = ['conversations', 'messages']

function tableNames(db: SqliteDatabase): string[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[]
}

/**
 * Checks that the database is one of ours in a layout this version understands, creating the
 * tables in an empty one and migrating one of an older layout in place. Throws a `MemoryError`
 * (`corrupt`) for a foreign database or a newer layout; SQLite's own errors (not a database,
 * locked, read-only) are left to the caller to wrap.
 */
export function ensureSchema(db: SqliteDatabase, where: DatabasePlace): void {
  if (checkSchema(db, where) === SCHEMA_VERSION && !hasStaleIndex(db)) return
  // IMMEDIATE takes the write lock first: two processes creating (or migrating) the same file one
  // after the other, the second finds the tables the first made. A migration is one transaction:
  // a crash in the middle leaves the file as it was, in the old layout.
  db.exec('BEGIN IMMEDIATE')
  try {
    const version = checkSchema(db, where)
    if (version === 0) {
      db.exec(TABLES)
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    } else if (version < SCHEMA_VERSION) {
      migrateSchema(db, version)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    } else {
      db.exec(`DROP INDEX IF EXISTS ${STALE_INDEX}`)
    }
    db.exec('COMMIT')
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  }
}

// Checked with a read first, so that an open of a current database never takes the write lock.
function hasStaleIndex(db: SqliteDatabase): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?").pluck().get(STALE_INDEX) !==
    undefined
  )
}

interface SchemaMarks {
  readonly applicationId: number
  readonly version: number
  readonly tables: string[]
}

/**
 * The header marks and table names, read in one transaction. Read one by one, another process
 * creating the store in between (two bots started together on a new file) showed the id of an
 * empty file with the tables of a full one, and the store was refused as another application's.
 * Inside a caller's transaction (ensureSchema's write lock) the reads are consistent already.
 */
function readMarks(db: SqliteDatabase): SchemaMarks {
  const read = (): SchemaMarks => ({
    applicationId: db.pragma('application_id', { simple: true }) as number,
    version: db.pragma('user_version', { simple: true }) as number,
    tables: tableNames(db),
  })
  if (db.inTransaction) return read()
  db.exec('BEGIN')
  try {
    return read()
  } finally {
    if (db.inTransaction) db.exec('COMMIT')
  }
}

/**
 * The layout version of our tables (this one, or an older one that {@link ensureSchema} migrates),
 * 0 for an empty database; throws a `MemoryError` (`corrupt`) for a foreign, newer or damaged one.
 * Reads only: it runs before anything is changed in a file, so a database that is not ours is left
 * as it was.
 */
export function checkSchema(db: SqliteDatabase, where: DatabasePlace): number {
  const { applicationId, version, tables } = readMarks(db)
  if (applicationId === 0 && tables.length === 0) return 0
  if (applicationId !== APPLICATION_ID) {
    throw new MemoryError(
      'corrupt',
      `${where.text} is a SQLite database of another application (tables: ${tables.join(', ') || 'none'}), not a @taurobot/memory store. Point path at a new file; the store creates it.`,
      { details: { file: where.file, tables, applicationId } },
    )
  }
  if (version > SCHEMA_VERSION) {
    throw new MemoryError(
      'corrupt',
      `${where.text} was written by a newer @taurobot/memory (schema version ${version}; this one reads up to ${SCHEMA_VERSION}). Upgrade @taurobot/memory to open it.`,
      { details: { file: where.file, version, supported: SCHEMA_VERSION } },
    )
  }
  const missing = OUR_TABLES.filter((name) => !tables.includes(name))
  if (version < 1 || missing.length > 0) {
    throw new MemoryError(
      'corrupt',
      `${where.text} is marked as a @taurobot/memory store but its schema is damaged (version ${version}${missing.length > 0 ? `, missing tables ${missing.join(', ')}` : ''}). Restore it from a backup or move it aside to start a new one.`,
      { details: { file: where.file, version, missing } },
    )
  }
  return version
}
