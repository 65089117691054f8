import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { APPLICATION_ID, SCHEMA_VERSION } from '../../../src/backends/sqlite/schema.js'
import type { Backend, BackendContext, Message } from '../../../src/index.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { testScratch } from '../../helpers.js'

const { cleanups, fresh } = testScratch()
const HOUR = 3_600_000

function context(): BackendContext {
  return { maxMessages: 1000, warn: () => undefined, recovered: () => undefined }
}

function message(content: string, time: number, id = content): Message {
  return { role: 'user', content, timestamp: new Date(time).toISOString(), id }
}

async function openBackend(options: Parameters<typeof sqliteBackend>[0]): Promise<Backend> {
  const backend = sqliteBackend(options)
  await backend.open(context())
  cleanups.push(() => backend.close())
  return backend
}

/** Frames in the -wal file since the last checkpoint, as another connection sees them. */
function walFrames(path: string, reset = false): number {
  const db = new Database(path)
  try {
    const [result] = db.pragma(reset ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)') as Array<{
      log: number
    }>
    return (result as { log: number }).log
  } finally {
    db.close()
  }
}

function indexes(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    return db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'conversations' AND name NOT LIKE 'sqlite_%'",
      )
      .pluck()
      .all() as string[]
  } finally {
    db.close()
  }
}

describe('sqlite backend: the prune index on the hour of the newest message', () => {
  it('prunes exactly the conversations idle since before the cutoff, also within the cutoff’s hour and before 1970', async () => {
    const db = new Database(':memory:')
    cleanups.push(() => void db.close())
    const backend = await openBackend({ database: db })
    const cutoff = Date.parse('2030-05-05T10:20:00.000Z')
    const hourStart = Date.parse('2030-05-05T10:00:00.000Z')
    await backend.append([
      { id: 'hour-before', messages: [message('a', hourStart - 1)] },
      { id: 'same-hour-before', messages: [message('b', hourStart)] },
      { id: 'just-before', messages: [message('c', cutoff - 1)] },
      { id: 'at-cutoff', messages: [message('d', cutoff)] },
      { id: 'same-hour-after', messages: [message('e', hourStart + HOUR - 1)] },
      { id: 'hour-after', messages: [message('f', hourStart + HOUR)] },
      // Moves to a later hour, then back before the cutoff when its newest message is replaced.
      { id: 'moved-back', messages: [message('g', cutoff - 3 * HOUR), message('h', cutoff + 5 * HOUR)] },
      // Old, then a new message after the cutoff.
      { id: 'moved-on', messages: [message('i', cutoff - 9 * HOUR)] },
    ])
    await backend.append([
      {
        id: 'moved-back',
        messages: [],
        operations: [{ op: 'upsert', message: message('h2', cutoff - 2 * HOUR, 'h') }],
      },
      { id: 'moved-on', messages: [message('j', cutoff + 1)] },
    ])
    expect((await backend.prune?.(cutoff))?.sort()).toEqual([
      'hour-before',
      'just-before',
      'moved-back',
      'same-hour-before',
    ])
    expect((await backend.prune?.(cutoff))?.sort()).toEqual([])
    expect(await backend.stats?.()).toMatchObject({ conversations: 4 })

    // Times before 1970 are negative: their hour is truncated toward zero, as the cutoff's is.
    const epoch = await openBackend({ database: new Database(':memory:') })
    await epoch.append([
      { id: 'before-1970', messages: [message('k', -30 * 60_000)] },
      { id: 'early', messages: [message('l', 5 * 60_000)] },
      { id: 'after-cutoff', messages: [message('m', 20 * 60_000)] },
    ])
    expect((await epoch.prune?.(10 * 60_000))?.sort()).toEqual(['before-1970', 'early'])
    expect((await epoch.prune?.(-40 * 60_000))?.sort()).toEqual([])
  })

  it('an add within the hour of the conversation’s newest message leaves the index unwritten: two pages, not three', async () => {
    const path = join(await fresh(), 'pages.db')
    const backend = await openBackend({ path, worker: false })
    const t = Date.parse('2030-05-05T10:00:00.000Z')
    await backend.append([{ id: 'c', messages: [message('first', t)] }])
    walFrames(path, true)
    // The message's page and the conversation's row.
    await backend.append([{ id: 'c', messages: [message('same hour', t + 59 * 60_000)] }])
    expect(walFrames(path)).toBe(2)
    walFrames(path, true)
    // In another hour, the index's page too.
    await backend.append([{ id: 'c', messages: [message('next hour', t + HOUR)] }])
    expect(walFrames(path)).toBe(3)
  })

  it('migrates a database of version 2: the hour of each newest message, indexed in place of the time', async () => {
    const path = join(await fresh(), 'v2.db')
    const t = Date.parse('2030-05-05T10:30:00.000Z')
    const raw = new Database(path)
    raw.pragma('journal_mode = WAL')
    // The layout of version 2 (development builds): the index is on last_time.
    raw.exec(`
CREATE TABLE conversations (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, count INTEGER NOT NULL,
  next_seq INTEGER NOT NULL, last_timestamp TEXT, last_time REAL);
CREATE INDEX conversations_by_last_time ON conversations (last_time);
CREATE TABLE messages (conversation INTEGER NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL,
  message_id TEXT, PRIMARY KEY (conversation, seq)) WITHOUT ROWID;`)
    raw.pragma(`application_id = ${APPLICATION_ID}`)
    raw.pragma('user_version = 2')
    const create = raw.prepare(
      'INSERT INTO conversations (id, count, next_seq, last_timestamp, last_time) VALUES (?, 1, 1, ?, ?)',
    )
    const insert = raw.prepare(
      'INSERT INTO messages (conversation, seq, json, message_id) VALUES (?, 0, ?, ?)',
    )
    for (const [id, time] of [
      ['old', t - 5 * HOUR],
      ['recent', t],
      ['odd', null],
    ] as const) {
      const m = time === null ? { role: 'user', content: id, timestamp: 'not a date', id } : message(id, time)
      const key = create.run(id, m.timestamp, time).lastInsertRowid
      insert.run(key, JSON.stringify(m), id)
    }
    raw.close()

    const backend = await openBackend({ path })
    expect(indexes(path)).toEqual(['conversations_by_last_hour'])
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(db.prepare('SELECT id, last_time, last_hour FROM conversations ORDER BY key').all()).toEqual([
      { id: 'old', last_time: t - 5 * HOUR, last_hour: Math.trunc((t - 5 * HOUR) / HOUR) },
      { id: 'recent', last_time: t, last_hour: Math.trunc(t / HOUR) },
      { id: 'odd', last_time: null, last_hour: null },
    ])
    expect(await backend.prune?.(t - HOUR)).toEqual(['old'])
    await backend.append([{ id: 'recent', messages: [message('later', t + 2 * HOUR)] }])
    expect(await backend.prune?.(t + HOUR)).toEqual([])
    expect(await backend.prune?.(t + 3 * HOUR)).toEqual(['recent'])
    expect((await backend.read('odd')).map((m) => m.content)).toEqual(['odd'])
  })
})
