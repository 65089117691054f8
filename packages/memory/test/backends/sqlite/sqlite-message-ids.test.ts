import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { APPLICATION_ID, SCHEMA_VERSION } from '../../../src/backends/sqlite/schema.js'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import type { Backend, BackendContext, BatchEntry, Message, Operation } from '../../../src/index.js'
import { isMemoryError, memoryBackend } from '../../../src/index.js'
import { assignLegacyIds } from '../../../src/message-id.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { ensureBuilt, testScratch } from '../../helpers.js'

const run = promisify(execFile)
const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))
const { cleanups, fresh, open } = testScratch()

function context(maxMessages = 1000): BackendContext {
  return { maxMessages, warn: () => undefined, recovered: () => undefined }
}

function message(content: string, id: string | undefined, timestamp = '2030-01-01T00:00:00.000Z'): Message {
  return id === undefined ? { role: 'user', content, timestamp } : { role: 'user', content, timestamp, id }
}

/** A backend over a fresh in-memory database of the caller, with the database to look into. */
async function inline(maxMessages = 1000): Promise<{ backend: Backend; db: Database.Database }> {
  const db = new Database(':memory:')
  const backend = sqliteBackend({ database: db })
  await backend.open(context(maxMessages))
  cleanups.push(async () => {
    await backend.close()
    db.close()
  })
  return { backend, db }
}

function totalChanges(db: Database.Database): number {
  return db.prepare('SELECT total_changes()').pluck().get() as number
}

// The layout of version 1, as that release created it: no message_id column, no index on it.
const VERSION_1 = `
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

/**
 * Writes a database of schema version 1 holding `conversations` as that release stored them:
 * the rows of each one numbered up to next_seq, as if older ones had been trimmed.
 */
function writeVersion1(path: string, conversations: Record<string, Array<Message | string>>): void {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.exec(VERSION_1)
  db.pragma(`application_id = ${APPLICATION_ID}`)
  db.pragma('user_version = 1')
  const create = db.prepare(
    'INSERT INTO conversations (id, count, next_seq, last_timestamp, last_time) VALUES (?, ?, ?, ?, ?)',
  )
  const insert = db.prepare('INSERT INTO messages (conversation, seq, json) VALUES (?, ?, ?)')
  for (const [id, list] of Object.entries(conversations)) {
    const last = list[list.length - 1] as Message
    const next = list.length + 7
    const key = create.run(id, list.length, next, last.timestamp, Date.parse(last.timestamp)).lastInsertRowid
    for (const [i, m] of list.entries()) {
      insert.run(key, next - list.length + i, typeof m === 'string' ? m : JSON.stringify(m))
    }
  }
  db.close()
}

describe('sqlite backend: message ids', () => {
  it('an upsert or a remove by id writes its own row and the summary row, whatever the conversation size', async () => {
    const { backend, db } = await inline(5000)
    const many = Array.from({ length: 2000 }, (_, i) =>
      message(String(i), `m${i}`, `2030-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`),
    )
    await backend.append([{ id: 'c', messages: many }])
    for (const operation of [
      { op: 'upsert', message: message('edited', 'm10') },
      { op: 'remove', id: 'm20' },
      { op: 'remove', id: 'unknown' },
    ] satisfies Operation[]) {
      const before = totalChanges(db)
      await backend.append([{ id: 'c', messages: [], operations: [operation] }])
      // One message row and the conversation's row at most: never a rewrite of the conversation.
      expect(totalChanges(db) - before, operation.op).toBeLessThanOrEqual(2)
    }
    const stored = await backend.read('c')
    expect(stored).toHaveLength(1999)
    expect(stored[10]).toEqual(message('edited', 'm10'))
    expect(stored.some((m) => m.id === 'm20')).toBe(false)
    expect(await backend.stats?.()).toMatchObject({ conversations: 1, messages: 1999 })
  })

  it("finds an id at any age by walking from the newest row: the newest of two equal ids, never another conversation's", async () => {
    const { backend } = await inline(5000)
    const many = Array.from({ length: 3000 }, (_, i) => message(String(i), `m${i}`))
    // 'dup' twice in 'c' (a caller gave it twice), and in 'other', written after 'c'.
    await backend.append([
      { id: 'c', messages: [message('old dup', 'dup'), ...many, message('new dup', 'dup')] },
      { id: 'other', messages: [message('other dup', 'dup'), message('other first', 'm0')] },
    ])
    await backend.append([
      {
        id: 'c',
        messages: [],
        operations: [
          { op: 'upsert', message: message('oldest edited', 'm0') },
          { op: 'upsert', message: message('dup edited', 'dup') },
          { op: 'remove', id: 'm2999' },
          { op: 'remove', id: 'dup' },
          { op: 'remove', id: 'dup' },
        ],
      },
    ])
    const stored = await backend.read('c')
    expect(stored.map((m) => m.content)).toEqual([
      ...many.slice(0, 2999).map((m, i) => (i === 0 ? 'oldest edited' : m.content)),
    ])
    expect((await backend.read('other')).map((m) => m.content)).toEqual(['other dup', 'other first'])
  })

  it('keeps the summary row right: the newest timestamp follows upserts and removes, an emptied conversation stays listed', async () => {
    const { backend, db } = await inline()
    const summary = () =>
      db.prepare("SELECT count, last_timestamp, last_time FROM conversations WHERE id = 'c'").get()
    const t = (s: number) => `2030-01-01T00:00:0${s}.000Z`
    await backend.append([{ id: 'c', messages: [message('1', 'a', t(1)), message('2', 'b', t(2))] }])
    const change = (operations: Operation[]) => backend.append([{ id: 'c', messages: [], operations }])
    // Replacing the newest message changes the newest timestamp; replacing an older one does not.
    await change([{ op: 'upsert', message: message('2 edited', 'b', t(5)) }])
    expect(summary()).toEqual({ count: 2, last_timestamp: t(5), last_time: Date.parse(t(5)) })
    await change([{ op: 'upsert', message: message('1 edited', 'a', t(9)) }])
    expect(summary()).toEqual({ count: 2, last_timestamp: t(5), last_time: Date.parse(t(5)) })
    // Removing the newest: the one before it is the newest now.
    await change([{ op: 'remove', id: 'b' }])
    expect(summary()).toEqual({ count: 1, last_timestamp: t(9), last_time: Date.parse(t(9)) })
    // An upsert of an unknown id appends; a remove of it afterwards leaves the one before newest.
    await change([
      { op: 'upsert', message: message('3', 'c', t(3)) },
      { op: 'upsert', message: message('4', 'd', 'not a date') },
    ])
    expect(summary()).toEqual({ count: 3, last_timestamp: 'not a date', last_time: null })
    await change([{ op: 'remove', id: 'd' }])
    expect(summary()).toEqual({ count: 2, last_timestamp: t(3), last_time: Date.parse(t(3)) })
    await change([
      { op: 'remove', id: 'a' },
      { op: 'remove', id: 'c' },
    ])
    expect(summary()).toEqual({ count: 0, last_timestamp: null, last_time: null })
    const listed = []
    for await (const s of backend.conversations()) listed.push(s)
    expect(listed).toEqual([{ id: 'c', messages: 0 }])
    // An empty conversation has no newest timestamp: prune keeps it, as the other backends do.
    expect(await backend.prune?.(Date.parse('2100-01-01T00:00:00.000Z'))).toEqual([])
    expect(await backend.stats?.()).toMatchObject({ conversations: 1, messages: 0 })
  })

  it('a newest row that another program wrote as no message leaves the newest timestamp unknown, not an error', async () => {
    for (const raw of ['not json', 'null', '5']) {
      const { backend, db } = await inline()
      await backend.append([{ id: 'c', messages: [message('a', 'a')] }])
      // Another program's row after it, then one of ours.
      db.prepare(
        "INSERT INTO messages (conversation, seq, json) SELECT key, next_seq, ? FROM conversations WHERE id = 'c'",
      ).run(raw)
      db.exec("UPDATE conversations SET count = count + 1, next_seq = next_seq + 1 WHERE id = 'c'")
      await backend.append([{ id: 'c', messages: [message('b', 'b')] }])
      await backend.append([{ id: 'c', messages: [], operations: [{ op: 'remove', id: 'b' }] }])
      expect(
        db.prepare("SELECT count, last_timestamp, last_time FROM conversations WHERE id = 'c'").get(),
        raw,
      ).toEqual({
        count: 2,
        last_timestamp: null,
        last_time: null,
      })
    }
  })

  it('trims to maxMessages across the gaps that removes leave, in both kinds of entry', async () => {
    const { backend, db } = await inline(3)
    const rows = () => db.prepare('SELECT message_id FROM messages ORDER BY seq').pluck().all()
    await backend.append([
      { id: 'c', messages: [message('1', 'm1'), message('2', 'm2'), message('3', 'm3')] },
    ])
    await backend.append([
      {
        id: 'c',
        messages: [],
        operations: [
          { op: 'remove', id: 'm2' },
          { op: 'add', message: message('4', 'm4') },
          { op: 'add', message: message('5', 'm5') },
        ],
      },
    ])
    expect(rows()).toEqual(['m3', 'm4', 'm5'])
    await backend.append([{ id: 'c', messages: [], operations: [{ op: 'remove', id: 'm4' }] }])
    await backend.append([{ id: 'c', messages: [message('6', 'm6'), message('7', 'm7')] }])
    expect(rows()).toEqual(['m5', 'm6', 'm7'])
    expect(db.prepare('SELECT count FROM conversations').pluck().get()).toBe(3)
    // More adds in one entry than maxMessages: the newest are kept.
    await backend.append([
      {
        id: 'c',
        messages: [],
        operations: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ op: 'add', message: message(id, id) }) as const),
      },
    ])
    expect(rows()).toEqual(['c', 'd', 'e'])
    expect(await backend.stats?.()).toMatchObject({ messages: 3 })
  })

  it('applies any sequence of adds, upserts and removes exactly as the in-process backend does', async () => {
    // A seeded generator: a failure can be replayed. Few ids, so that unknown ids, ids given twice
    // and removes of what a batch just added all occur.
    let seed = 20261204
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const { backend } = await inline(5)
    const reference = memoryBackend()
    await reference.open(context(5))
    let n = 0
    const next = (id: string) =>
      message(`${id}:${n++}`, id, `2030-01-01T00:${String(n % 60).padStart(2, '0')}:00.000Z`)
    for (let round = 0; round < 300; round++) {
      const batch: BatchEntry[] = []
      for (const conversation of ['x', 'y']) {
        if (random() < 0.3) continue
        if (random() < 0.3) {
          batch.push({
            id: conversation,
            messages: Array.from({ length: 1 + Math.floor(random() * 3) }, () => next(pick(ids))),
          })
          continue
        }
        const operations: Operation[] = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
          const kind = pick(['add', 'upsert', 'upsert', 'remove', 'remove'] as const)
          return kind === 'remove' ? { op: kind, id: pick(ids) } : { op: kind, message: next(pick(ids)) }
        })
        batch.push({ id: conversation, messages: [], operations })
      }
      await backend.append(batch)
      await reference.append(batch)
      for (const conversation of ['x', 'y']) {
        expect(await backend.read(conversation), `round ${round}, ${conversation}`).toEqual(
          await reference.read(conversation),
        )
      }
      const listed = async (b: Backend) => {
        const all = []
        for await (const s of b.conversations()) all.push(s)
        return all.sort((p, q) => p.id.localeCompare(q.id))
      }
      expect(await listed(backend), `round ${round}`).toEqual(await listed(reference))
      expect((await backend.stats?.())?.messages).toBe((await reference.stats?.())?.messages)
    }
    await reference.close()
  })

  it('applies operations on the write worker too, in the same transaction as the appends of the batch', async () => {
    const path = join(await fresh(), 'worker.db')
    const memory = await open({ backend: new SqliteBackend({ path }, builtWorker), durability: 'strict' })
    const first = await memory.add('c', { role: 'user', content: 'question' })
    await Promise.all([
      memory.upsert('c', { id: 'reply', role: 'assistant', content: 'Ciao' }),
      memory.add('d', { role: 'user', content: 'elsewhere' }),
      memory.upsert('c', { id: 'reply', role: 'assistant', content: 'Ciao!' }),
    ])
    expect(await memory.remove('c', first.id)).toBe(true)
    await memory.close()
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(
      db
        .prepare(
          'SELECT c.id, m.message_id, m.json FROM messages m JOIN conversations c ON c.key = m.conversation ORDER BY c.id, m.seq',
        )
        .all()
        .map((row) => {
          const { id, message_id, json } = row as { id: string; message_id: string; json: string }
          return [id, message_id, (JSON.parse(json) as Message).content]
        }),
    ).toEqual([
      ['c', 'reply', 'Ciao!'],
      ['d', expect.any(String), 'elsewhere'],
    ])
  })
})

describe('sqlite backend: migration from schema version 1', () => {
  const t = '2025-10-12T09:15:02.123456'
  const versionOne = (): Record<string, Array<Message | string>> => ({
    '123456789': [
      { role: 'user', content: 'Ciao', timestamp: t, id: 'given' },
      { role: 'user', content: 'twice', timestamp: t },
      { role: 'assistant', content: 'answer', timestamp: t, model: 'gpt-4o-mini', tokens: 17 },
      { role: 'user', content: 'twice', timestamp: t },
      { role: 'user', content: 'empty id', timestamp: t, id: '' },
    ],
    'with-ids': [
      { role: 'user', content: 'a', timestamp: t, id: 'a' },
      { role: 'user', content: 'b', timestamp: t, id: 'b' },
    ],
  })

  it('moves every id into its column, stores the derived ids of messages without one, and keeps the rest as it was', async () => {
    const path = join(await fresh(), 'v1.db')
    const before = versionOne()
    writeVersion1(path, before)
    const old = new Database(path, { readonly: true })
    const summaries = old
      .prepare('SELECT id, count, next_seq, last_timestamp, last_time FROM conversations ORDER BY key')
      .all()
    old.close()

    const memory = await open({ backend: new SqliteBackend({ path }, builtWorker) })
    // The ids the store gives messages without one (the file backend shows the same ones).
    const expected = (before['123456789'] as Message[]).map((m) => ({ ...m }))
    assignLegacyIds(expected)
    expect(expected.map((m) => m.id)).toEqual([
      'given',
      expect.stringMatching(/^legacy-[0-9a-f]{16}$/),
      expect.stringMatching(/^legacy-[0-9a-f]{16}$/),
      expect.stringMatching(/^legacy-[0-9a-f]{16}-1$/),
      expect.stringMatching(/^legacy-[0-9a-f]{16}$/),
    ])
    expect(await memory.history(123456789)).toEqual(expected)
    expect(await memory.history('with-ids')).toEqual(before['with-ids'])

    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(
      db
        .prepare('SELECT id, count, next_seq, last_timestamp, last_time FROM conversations ORDER BY key')
        .all(),
    ).toEqual(summaries)
    expect(db.prepare('SELECT message_id FROM messages ORDER BY conversation, seq').pluck().all()).toEqual([
      ...expected.map((m) => m.id),
      'a',
      'b',
    ])
    // No index on the ids: it would slow every insert (see schema.ts).
    expect(
      db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages'")
        .pluck()
        .all(),
    ).toEqual([])

    // The derived ids are stored: upsert and remove find them, and a reopened store shows the same.
    const legacy = expected.map((m) => m.id as string)
    await memory.upsert(123456789, { id: legacy[1] as string, role: 'user', content: 'edited' })
    expect(await memory.remove(123456789, legacy[3] as string)).toBe(true)
    await memory.close()
    const again = await open({ backend: sqliteBackend({ path }) })
    expect((await again.history(123456789)).map((m) => [m.id, m.content])).toEqual([
      ['given', 'Ciao'],
      [legacy[1], 'edited'],
      [legacy[2], 'answer'],
      [legacy[4], 'empty id'],
    ])
  })

  it('derives the same ids as the file backend does for the same Python-bot conversation', async () => {
    const dir = await fresh()
    const list = versionOne()['123456789'] as Message[]
    const withoutIds = list.filter((m) => m.id === undefined)
    writeVersion1(join(dir, 'v1.db'), { chat: withoutIds })
    await writeFile(join(dir, 'conversations.json'), JSON.stringify({ conversations: { chat: withoutIds } }))
    const sqlite = await open({ path: join(dir, 'v1.db') })
    const file = await open({ path: join(dir, 'conversations.json') })
    const ids = (await sqlite.history('chat')).map((m) => m.id)
    expect(ids).toHaveLength(3)
    expect((await file.history('chat')).map((m) => m.id)).toEqual(ids)
  })

  it('a row that is not JSON does not stop the migration; reading its conversation still reports it', async () => {
    const path = join(await fresh(), 'v1.db')
    writeVersion1(path, {
      damaged: [
        { role: 'user', content: 'kept', timestamp: t },
        'not json',
        { role: 'user', content: 'last', timestamp: t },
      ],
    })
    const memory = await open({ backend: sqliteBackend({ path }) })
    const error = await memory.history('damaged').catch((e: unknown) => e)
    expect(isMemoryError(error, 'corrupt')).toBe(true)
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.prepare('SELECT message_id IS NULL FROM messages ORDER BY seq').pluck().all()).toEqual([
      0, 1, 0,
    ])
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
  })

  it('a migration that fails leaves the file in version 1 as it was, and the store does not open', async () => {
    const path = join(await fresh(), 'v1.db')
    writeVersion1(path, versionOne())
    const db = new Database(path)
    cleanups.push(() => void db.close())
    // A real failure half-way through: SQLite aborts the update of one message, after others.
    db.exec(
      "CREATE TRIGGER refuse BEFORE UPDATE ON messages WHEN NEW.seq = 10 BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END",
    )
    const rows = () => db.prepare('SELECT * FROM messages ORDER BY conversation, seq').all()
    const before = rows()
    const attempt = open({ backend: sqliteBackend({ path }) })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error))
    await expect(attempt).rejects.toThrow(/refused by a trigger/)
    expect(db.pragma('user_version', { simple: true })).toBe(1)
    expect(rows()).toEqual(before)
    expect(Object.keys(before[0] as object)).toEqual(['conversation', 'seq', 'json'])
    db.exec('DROP TRIGGER refuse')
    const memory = await open({ backend: sqliteBackend({ path }) })
    expect(await memory.history('with-ids')).toHaveLength(2)
  })

  it('two processes opening the same version-1 file at once: one migrates, the other finds it done', async () => {
    const index = ensureBuilt('index.js')
    const sqlite = ensureBuilt('sqlite.js')
    const path = join(await fresh(), 'v1.db')
    writeVersion1(path, versionOne())
    const script = [
      `const { openMemory } = await import(${JSON.stringify(index)})`,
      `const { sqliteBackend } = await import(${JSON.stringify(sqlite)})`,
      `const memory = await openMemory({ backend: sqliteBackend({ path: ${JSON.stringify(path)}, busyTimeoutMs: 30000 }), flushOnExit: false })`,
      "console.log(JSON.stringify((await memory.history('123456789')).map((m) => m.id)))",
      'await memory.close()',
    ].join('\n')
    const runs = await Promise.all(
      [0, 1].map(() => run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })),
    )
    const [first, second] = runs.map(({ stdout }) => JSON.parse(stdout) as string[])
    expect(first).toHaveLength(5)
    expect(second).toEqual(first)
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(7)
  }, 90_000)

  it('drops the message-id index of development builds of version 2 at open, and keeps everything else', async () => {
    const path = join(await fresh(), 'v2-indexed.db')
    const first = await open({ backend: sqliteBackend({ path }) })
    await first.add('c', { role: 'user', content: 'one', id: 'one' })
    await first.add('c', { role: 'user', content: 'two', id: 'two' })
    await first.close()
    const raw = new Database(path)
    raw.exec('CREATE INDEX messages_by_id ON messages (conversation, message_id)')
    raw.close()
    const indexes = (): string[] => {
      const db = new Database(path, { readonly: true })
      try {
        return db
          .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages'")
          .pluck()
          .all() as string[]
      } finally {
        db.close()
      }
    }
    expect(indexes()).toEqual(['messages_by_id'])

    const again = await open({ backend: sqliteBackend({ path }) })
    expect(indexes()).toEqual([])
    await again.upsert('c', { role: 'user', content: 'one edited', id: 'one' })
    expect(await again.remove('c', 'two')).toBe(true)
    expect((await again.history('c')).map((m) => [m.id, m.content])).toEqual([['one', 'one edited']])
    await again.close()
  })

  it('looks for that index with a read: a current database opens while another connection holds the write lock', async () => {
    const path = join(await fresh(), 'v2.db')
    const first = await open({ backend: sqliteBackend({ path }) })
    await first.add('c', { role: 'user', content: 'one', id: 'one' })
    await first.close()
    const holder = new Database(path)
    cleanups.push(() => void holder.close())
    holder.exec('BEGIN IMMEDIATE')
    try {
      const again = await open({ backend: sqliteBackend({ path, busyTimeoutMs: 50 }) })
      expect((await again.history('c')).map((m) => m.id)).toEqual(['one'])
      await again.close()
    } finally {
      holder.exec('ROLLBACK')
    }
  })

  it('migrates a database passed by the caller too', async () => {
    const path = join(await fresh(), 'v1.db')
    writeVersion1(path, versionOne())
    const db = new Database(path)
    cleanups.push(() => void db.close())
    const memory = await open({ backend: sqliteBackend({ database: db }) })
    expect(await memory.remove('with-ids', 'a')).toBe(true)
    expect((await memory.history('with-ids')).map((m) => m.id)).toEqual(['b'])
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
  })
})
