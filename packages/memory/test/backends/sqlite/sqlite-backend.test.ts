import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../../../src/backends/sqlite/schema.js'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import { SQL } from '../../../src/backends/sqlite/tables.js'
import type { Backend, BackendContext, Memory, MemoryOptions, Message } from '../../../src/index.js'
import { openMemory } from '../../../src/index.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { describeBackendContract } from '../../contract.js'
import { ensureBuilt, tempDir } from '../../helpers.js'

const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))

describeBackendContract(
  'sqlite (commits on the main thread)',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'memory', 'conversations.db')
    return { make: () => sqliteBackend({ path }), cleanup }
  },
  { persistent: true },
)

describeBackendContract(
  'sqlite (commits on the write worker, built)',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'conversations.db')
    return { make: () => new SqliteBackend({ path, worker: true }, builtWorker), cleanup }
  },
  { persistent: true },
)

describeBackendContract(
  "sqlite (worker: 'auto', the default: small writes on the main thread, the rest on the built worker)",
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'conversations.db')
    return { make: () => new SqliteBackend({ path }, builtWorker), cleanup }
  },
  { persistent: true },
)

describeBackendContract(
  'sqlite (a database passed by the caller)',
  () => {
    const db = new Database(':memory:')
    return { make: () => sqliteBackend({ database: db }), cleanup: () => void db.close() }
  },
  { persistent: true },
)

describe('sqliteBackend options', () => {
  it('rejects bad options with a TypeError or RangeError naming the option and value', () => {
    expect(() => sqliteBackend(undefined as never)).toThrow(/options must be an object with path/)
    // Without path, the alternative is named: a database opened by the caller.
    expect(() => sqliteBackend({})).toThrow(
      'path must be a non-empty string, got undefined: pass path (the database file) or database (an open better-sqlite3 Database)',
    )
    expect(() => sqliteBackend({ path: '' })).toThrow(
      'path must be a non-empty string, got "": pass path (the database file) or database',
    )
    expect(() => sqliteBackend({ path: 'x.db', nope: 1 } as never)).toThrow(/unknown option "nope"/)
    expect(() => sqliteBackend({ database: {} as never })).toThrow(
      /database must be an open better-sqlite3 Database, got an object/,
    )
    const db = new Database(':memory:')
    expect(() => sqliteBackend({ path: 'x.db', database: db })).toThrow(
      /path and database cannot be used together/,
    )
    db.close()
    expect(() => sqliteBackend({ path: 'x.db', busyTimeoutMs: -1 })).toThrow(
      /busyTimeoutMs must be an integer from 0 to 2147483647, got -1/,
    )
    expect(() => sqliteBackend({ path: 'x.db', busyTimeoutMs: 'soon' as never })).toThrow(TypeError)
    expect(() => sqliteBackend({ path: 'x.db', worker: 1 as never })).toThrow(
      /worker must be true, false or 'auto', got 1/,
    )
  })

  it('refuses path ":memory:", naming the ways to keep a store in memory', () => {
    // SQLite would open a database in memory, which then failed at open as a file it cannot create.
    expect(() => sqliteBackend({ path: ':memory:' })).toThrow(TypeError)
    expect(() => sqliteBackend({ path: ':memory:' })).toThrow(
      /^path ":memory:" is SQLite's name for a database in memory.*use memoryBackend\(\), or pass database: new Database\(':memory:'\)/,
    )
  })
})

const cleanups: Array<() => Promise<void> | void> = []
const stores: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined)
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The nice value of each thread of this process, by task id (Linux). */
function niceValues(): Map<number, number> {
  const values = new Map<number, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    // Fields after the command name in parentheses: the nice value is the 17th.
    values.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
  }
  return values
}

async function freshPath(name = 'conversations.db'): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return join(dir, name)
}

function context(maxMessages = 1000): BackendContext {
  return { maxMessages, warn: () => undefined, recovered: () => undefined }
}

function message(content: string, timestamp = new Date().toISOString()): Message {
  return { role: 'user', content, timestamp }
}

async function openStore(backend: Backend, options: Omit<MemoryOptions, 'backend'> = {}): Promise<Memory> {
  const memory = await openMemory({ backend, flushOnExit: false, ...options })
  stores.push(memory)
  return memory
}

describe('sqlite backend', () => {
  it('commits on the worker thread when its module is next to the backend, else on the main thread', async () => {
    const path = await freshPath()
    const onWorker = new SqliteBackend({ path }, builtWorker)
    await onWorker.open(context())
    stores.push(onWorker)
    expect(onWorker.writesOnWorker).toBe(true)
    const asked = new SqliteBackend({ path, worker: false }, builtWorker)
    await asked.open(context())
    stores.push(asked)
    expect(asked.writesOnWorker).toBe(false)
    const db = new Database(':memory:')
    cleanups.push(() => void db.close())
    const given = new SqliteBackend({ database: db }, builtWorker)
    await given.open(context())
    stores.push(given)
    expect(given.writesOnWorker).toBe(false)
  })

  it.runIf(process.platform === 'linux')(
    'the write worker runs below normal priority, and the main thread keeps its own',
    async () => {
      const path = await freshPath()
      const before = niceValues()
      const backend = new SqliteBackend({ path }, builtWorker)
      const memory = await openStore(backend)
      await memory.add(1, message('wake the worker'))
      await memory.flush()
      expect(backend.writesOnWorker).toBe(true)
      const after = niceValues()
      // The main thread's task id is the process id.
      expect(after.get(process.pid)).toBe(before.get(process.pid))
      const started = [...after].filter(([tid]) => !before.has(tid))
      expect(started.filter(([, nice]) => nice === 10)).toHaveLength(1)
    },
  )

  it('lets the WAL grow to 10,000 pages before a checkpoint copies it into the database', async () => {
    const path = await freshPath()
    const memory = await openStore(new SqliteBackend({ path }, builtWorker))
    // About 12 MB in 24 commits of 0.5 MB each: with SQLite's default interval (1,000 pages,
    // 4 MB) the WAL would be restarted from its beginning after each checkpoint and stay near 4 MB.
    const text = 'x'.repeat(5000)
    for (let commit = 0; commit < 24; commit++) {
      for (let i = 0; i < 100; i++) await memory.add(`c${i % 10}`, message(`${commit} ${i} ${text}`))
      await memory.flush()
    }
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(10 * 1024 * 1024)
    expect((await memory.stats()).messages).toBe(2400)
  })

  it('every query reads only the rows it needs: no statement scans the messages table', () => {
    const db = new Database(':memory:')
    cleanups.push(() => void db.close())
    const backend = sqliteBackend({ database: db })
    return backend.open(context()).then(() => {
      const plans: Record<string, string> = {}
      for (const [name, sql] of Object.entries(SQL)) {
        const params = (sql.match(/\?/g) ?? []).map(() => 1)
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>
        plans[name] = rows.map((row) => row.detail).join('; ')
        expect(plans[name], name).not.toMatch(/SCAN messages/)
      }
      expect(plans.read).toMatch(/SEARCH messages USING PRIMARY KEY \(conversation=\?\)/)
      expect(plans.trim).toMatch(/SEARCH messages USING PRIMARY KEY \(conversation=\? AND seq<\?\)/)
      // Upsert and remove by id: a walk of that conversation's rows only, through the primary key
      // newest first (no temp B-tree for ORDER BY seq DESC, no index on the id), then the row
      // itself by its primary key.
      expect(plans.findMessage).toBe('SEARCH messages USING PRIMARY KEY (conversation=?)')
      expect(plans.replace).toBe('SEARCH messages USING PRIMARY KEY (conversation=? AND seq=?)')
      expect(plans.deleteMessage).toBe('SEARCH messages USING PRIMARY KEY (conversation=? AND seq=?)')
      expect(plans.newest).toBe('SEARCH messages USING PRIMARY KEY (conversation=?)')
      expect(plans.idle).toMatch(
        /SEARCH conversations USING (COVERING )?INDEX conversations_by_last_hour \(last_hour<\?\)/,
      )
      expect(plans.list).toMatch(/SEARCH conversations USING INTEGER PRIMARY KEY \(rowid>\?\)/)
      expect(plans.find).toMatch(/USING INDEX sqlite_autoindex_conversations_1 \(id=\?\)/)
      // The one statement that reads the whole conversations table: run by the writer before its
      // first write, never at open (see overLimit in tables.ts).
      expect(plans.overLimit).toBe('SCAN conversations')
      return backend.close()
    })
  })

  it('keeps exactly maxMessages rows per conversation, and the stored layout is versioned', async () => {
    const path = await freshPath()
    const memory = await openStore(new SqliteBackend({ path }, builtWorker), { maxMessages: 3 })
    for (let i = 0; i < 10; i++) await memory.add('a', { role: 'user', content: String(i) })
    await memory.flush()
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(3)
    expect(db.prepare('SELECT id, count, next_seq FROM conversations').all()).toEqual([
      { id: 'a', count: 3, next_seq: 10 },
    ])
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
  })

  it('stores each message of a batch as its own JSON text, with its id, and counts their bytes', async () => {
    const path = await freshPath()
    const backend = new SqliteBackend({ path }, builtWorker)
    await backend.open(context())
    stores.push(backend)
    const a: Message[] = [
      {
        role: 'user',
        content: '},{"role":"x"}],[ \\" “Ciao” 🚀',
        timestamp: '2026-01-01T00:00:00Z',
        id: 'a1',
      },
      { role: 'user', content: '\\', timestamp: '2026-01-01T00:00:01Z', id: 'a2', meta: { list: [1, ','] } },
    ]
    const b: Message[] = [{ role: 'assistant', content: '', timestamp: '2026-01-01T00:00:02Z' }]
    const { bytes } = await backend.append([
      { id: 'a', messages: a },
      { id: 'b', messages: b },
    ])
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    const rows = db
      .prepare(
        'SELECT c.id AS conversation, m.json, m.message_id FROM messages m JOIN conversations c ON c.key = m.conversation ORDER BY c.id, m.seq',
      )
      .all()
    expect(rows).toEqual([
      { conversation: 'a', json: JSON.stringify(a[0]), message_id: 'a1' },
      { conversation: 'a', json: JSON.stringify(a[1]), message_id: 'a2' },
      { conversation: 'b', json: JSON.stringify(b[0]), message_id: null },
    ])
    expect(bytes).toBe([...a, ...b].reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)), 0))
  })

  it('a store reopened with a smaller maxMessages trims each conversation at its next write', async () => {
    const path = await freshPath()
    const first = await openStore(sqliteBackend({ path }))
    for (let i = 0; i < 10; i++) await first.add('a', { role: 'user', content: String(i) })
    await first.close()
    const second = await openStore(sqliteBackend({ path }), { maxMessages: 4 })
    expect((await second.history('a')).map((m) => m.content)).toEqual(['6', '7', '8', '9'])
    await second.add('a', { role: 'user', content: '10' })
    await second.flush()
    expect((await second.history('a')).map((m) => m.content)).toEqual(['7', '8', '9', '10'])
    expect((await second.stats()).messages).toBe(4)
  })

  it('stats() counts messages as history() shows them after a reopen with a smaller maxMessages', async () => {
    const path = await freshPath()
    const first = await openStore(sqliteBackend({ path }))
    for (let i = 0; i < 10; i++) await first.add('a', { role: 'user', content: String(i) })
    await first.add('b', { role: 'user', content: 'one' })
    await first.close()
    // Nothing written since the reopen: the rows of "a" are all still there, read() shows 3.
    const second = await openStore(sqliteBackend({ path }), { maxMessages: 3, onWarning: () => undefined })
    expect(await second.history('a')).toHaveLength(3)
    expect(await second.stats()).toMatchObject({ conversations: 2, messages: 4, averagePerConversation: 2 })
    const db = new Database(path, { readonly: true })
    cleanups.push(() => void db.close())
    expect(db.prepare("SELECT count FROM conversations WHERE id = 'a'").pluck().get()).toBe(10)
  })

  it('concurrent strict adds are one batch: one call, one transaction', async () => {
    const path = await freshPath()
    const backend = new SqliteBackend({ path }, builtWorker)
    const batches: number[] = []
    const append = backend.append.bind(backend)
    backend.append = (batch) => {
      batches.push(batch.reduce((sum, entry) => sum + entry.messages.length, 0))
      return append(batch)
    }
    const memory = await openMemory({ backend, durability: 'strict', flushOnExit: false })
    stores.push(memory)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => memory.add(`c${i % 4}`, { role: 'user', content: String(i) })),
    )
    expect(batches).toEqual([20])
  })

  it('lists every conversation once in chunks, also when conversations are cleared during the walk', async () => {
    const path = await freshPath()
    const backend = new SqliteBackend({ path }, builtWorker)
    await backend.open(context())
    stores.push(backend)
    const ids = Array.from({ length: 1200 }, (_, i) => `chat-${i}`)
    await backend.append(ids.map((id) => ({ id, messages: [message(id, '2030-01-01T00:00:00.000Z')] })))
    const seen: string[] = []
    for await (const summary of backend.conversations()) {
      seen.push(summary.id)
      expect(summary).toEqual({ id: summary.id, messages: 1, lastTimestamp: '2030-01-01T00:00:00.000Z' })
      if (seen.length === 10) await backend.clear('chat-1100')
    }
    expect(seen).toHaveLength(1199)
    expect(new Set(seen).size).toBe(1199)
    expect(seen).not.toContain('chat-1100')
    expect(await backend.stats()).toMatchObject({ conversations: 1199, messages: 1199 })
  })

  it('a message whose timestamp cannot be read is listed and kept by prune', async () => {
    const db = new Database(':memory:')
    cleanups.push(() => void db.close())
    const backend = sqliteBackend({ database: db })
    await backend.open(context())
    stores.push(backend)
    await backend.append([
      { id: 'odd', messages: [message('x', 'not a date')] },
      { id: 'old', messages: [message('y', '2020-01-01T00:00:00.000Z')] },
    ])
    expect(await backend.prune?.(Date.parse('2024-01-01T00:00:00.000Z'))).toEqual(['old'])
    expect(await backend.read('odd')).toEqual([message('x', 'not a date')])
  })

  it("leaves a caller's database open and configured as it was", async () => {
    const path = await freshPath()
    const db = new Database(path)
    cleanups.push(() => void db.close())
    const memory = await openStore(sqliteBackend({ database: db }))
    await memory.add(1, { role: 'user', content: 'x' })
    await memory.close()
    expect(db.open).toBe(true)
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete')
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(1)
    const closed = new Database(':memory:')
    closed.close()
    await expect(
      openMemory({ backend: sqliteBackend({ database: closed }), flushOnExit: false }),
    ).rejects.toThrow(/the given database \(":memory:"\) is closed/)
  })
})

describe('sqlite backend: conversations longer than maxMessages', () => {
  // How each kind of writer is made for a database file: commits on the worker, on the main thread
  // by choice, and on a database the caller opened.
  const kinds: Array<[string, (path: string) => Backend]> = [
    ['the write worker', (path) => new SqliteBackend({ path, worker: true }, builtWorker)],
    ["worker: 'auto'", (path) => new SqliteBackend({ path }, builtWorker)],
    ['worker: false', (path) => new SqliteBackend({ path, worker: false }, builtWorker)],
    [
      "a caller's database",
      (path) => {
        const db = new Database(path)
        cleanups.push(() => void db.close())
        return new SqliteBackend({ database: db }, builtWorker)
      },
    ],
  ]

  /** A store written with maxMessages 10: "a" holds 10 messages (of 12 added), "b" 7, "c" 3. */
  async function written(): Promise<string> {
    const path = await freshPath()
    const memory = await openStore(new SqliteBackend({ path, worker: false }, builtWorker), {
      maxMessages: 10,
    })
    for (const [id, n] of [
      ['a', 12],
      ['b', 7],
      ['c', 3],
    ] as const) {
      for (let i = 0; i < n; i++) await memory.add(id, message(`${id}${i}`))
    }
    await memory.close()
    return path
  }

  /** The length of each conversation as its row in the file says, read by a connection of its own. */
  function lengths(path: string): Record<string, number> {
    const db = new Database(path, { readonly: true })
    try {
      const rows = db.prepare('SELECT id, count FROM conversations ORDER BY id').all() as Array<{
        id: string
        count: number
      }>
      return Object.fromEntries(rows.map((row) => [row.id, row.count]))
    } finally {
      db.close()
    }
  }

  async function openWatched(
    backend: Backend,
    maxMessages: number,
    path: string,
  ): Promise<{ memory: Memory; warnings: string[]; seen: Array<Record<string, number>> }> {
    const warnings: string[] = []
    // What the file held when each warning came: nothing trimmed yet.
    const seen: Array<Record<string, number>> = []
    const memory = await openMemory({
      backend,
      maxMessages,
      flushOnExit: false,
      onWarning: (warning) => {
        warnings.push(warning)
        seen.push(lengths(path))
      },
    })
    stores.push(memory)
    return { memory, warnings, seen }
  }

  for (const [kind, make] of kinds) {
    it(`warns once, before the first write trims them (${kind})`, async () => {
      const path = await written()
      const { memory, warnings, seen } = await openWatched(make(path), 5, path)
      await memory.add('b', message('b7'))
      await memory.flush()
      await memory.add('a', message('a12'))
      await memory.flush()
      expect(warnings).toHaveLength(1)
      const [warning] = warnings
      expect(warning).toContain(`${JSON.stringify(path)}`)
      expect(warning).toContain('2 conversations hold more than maxMessages (5) messages')
      expect(warning).toContain('the longest "a" with 10')
      expect(warning).toContain('their oldest messages are dropped from the database at their next write')
      expect(warning).toContain('open the store with a larger maxMessages')
      expect(seen).toEqual([{ a: 10, b: 7, c: 3 }])
      // What the warning announces: the writes trimmed each conversation they touched.
      expect(lengths(path)).toEqual({ a: 5, b: 5, c: 3 })
    })

    it(`says nothing when every conversation fits, or the database is new (${kind})`, async () => {
      const path = await written()
      const same = await openWatched(make(path), 10, path)
      await same.memory.add('c', message('c3'))
      await same.memory.flush()
      await same.memory.close()
      expect(same.warnings).toEqual([])
      expect(lengths(path)).toEqual({ a: 10, b: 7, c: 4 })

      const fresh = await freshPath()
      const empty = await openWatched(make(fresh), 1, fresh)
      await empty.memory.add('x', message('x0'))
      await empty.memory.add('x', message('x1'))
      await empty.memory.flush()
      expect(empty.warnings).toEqual([])
      expect(lengths(fresh)).toEqual({ x: 1 })
    })
  }

  it('names the one conversation, and on the main thread waits for the first write to look', async () => {
    const path = await written()
    const { memory, warnings, seen } = await openWatched(
      new SqliteBackend({ path, worker: false }, builtWorker),
      8,
      path,
    )
    // Open reads no more than before: the conversations table is read at the first write.
    expect(warnings).toEqual([])
    await memory.add('c', message('c3'))
    await memory.flush()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      '1 conversation holds more than maxMessages (8) messages, the longest "a" with 10',
    )
    expect(seen).toEqual([{ a: 10, b: 7, c: 3 }])
  })
})
