import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import {
  isMemoryError,
  type Memory,
  type MigrateProgress,
  memoryBackend,
  migrate,
  openMemory,
} from '../src/index.js'
import { redisBackend } from '../src/redis.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './backends/redis/cluster-servers.js'
import { ensureBuilt, IN_CI, packageDir, tempDir } from './helpers.js'

/**
 * A migration writes every message, so the ids derived from a Python file's messages are stored:
 * checks they are there, and returns the conversations without them.
 */
function withoutLegacyIds(conversations: Record<string, Array<Record<string, unknown>>>): unknown {
  for (const list of Object.values(conversations)) {
    for (const message of list) {
      expect(message.id).toMatch(/^legacy-[0-9a-f]{16}$/)
      delete message.id
    }
  }
  return conversations
}

const run = promisify(execFile)
// A Python file with an empty conversation, which no destination keeps.
const WITH_EMPTY = {
  conversations: {
    '1': [{ role: 'user', content: 'a', timestamp: '2025-01-01T00:00:00' }],
    '2': [],
  },
}
// As the Python bot may write them: messages without a timestamp, never pruned. Conversation "1"
// ends with one; in "2" it is followed by an older message (a migration that stamped it with
// its own time would put it out of order).
const UNSTAMPED = {
  conversations: {
    '1': [
      { role: 'user', content: 'stamped', timestamp: '2020-01-01T00:00:00' },
      { role: 'assistant', content: 'unstamped' },
    ],
    '2': [
      { role: 'user', content: 'unstamped' },
      { role: 'assistant', content: 'older', timestamp: '2020-01-01T00:00:01' },
    ],
  },
}

/** Checks that `memory` holds UNSTAMPED as it is: no timestamp added, "1" never pruned. */
async function expectUnstamped(memory: Memory): Promise<void> {
  for (const [id, messages] of Object.entries(UNSTAMPED.conversations)) {
    expect((await memory.history(id)).map(({ id: _id, ...rest }) => rest)).toEqual(messages)
  }
  const listed: Record<string, string | undefined> = {}
  for await (const summary of memory.conversations()) listed[summary.id] = summary.lastTimestamp
  expect(listed).toEqual({ '1': undefined, '2': '2020-01-01T00:00:01' })
  // "2" is idle since 2020; "1" ends with a message that has no time, which prune never removes.
  expect(await memory.prune({ olderThanDays: 1 })).toBe(1)
  expect((await memory.history('1')).length).toBe(2)
}

const unavailable = await redisUnavailable()
const legacy = join(packageDir, 'test', 'fixtures', 'legacy-conversations.json')

async function snapshot(memory: Memory): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {}
  for await (const summary of memory.conversations()) all[summary.id] = await memory.history(summary.id)
  return all
}

async function seed(memory: Memory): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await memory.add(i % 3 === 0 ? 123456789 : i % 3 === 1 ? '__proto__' : 'ünïcødé 🚀', {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i}`,
      timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
      ...(i === 4 ? { tokens: 12, meta: { model: 'x' } } : {}),
    })
  }
}

describe('migrate', () => {
  it('copies every conversation, reports progress and checks the counts', async () => {
    const from = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const to = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await seed(from)
    const progress: MigrateProgress[] = []
    const result = await migrate(from, to, { onProgress: (p) => progress.push(p) })
    expect(result).toEqual({ conversations: 3, messages: 30, emptyConversations: 0 })
    expect(await snapshot(to)).toEqual(await snapshot(from))
    expect(progress[0]).toEqual({ conversations: 0, totalConversations: 3, messages: 0, totalMessages: 30 })
    expect(progress.at(-1)).toEqual({
      conversations: 3,
      totalConversations: 3,
      messages: 30,
      totalMessages: 30,
    })
    expect(progress.map((p) => p.conversations)).toEqual([0, 1, 2, 3])
  })

  it('refuses to mix into conversations the destination has, unless replace is set', async () => {
    const from = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const to = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await seed(from)
    await to.add('__proto__', { role: 'user', content: 'already here' })
    const error = await migrate(from, to).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isMemoryError(error, 'migration')).toBe(true)
    expect((error as Error).message).toMatch(
      /already holds 1 of the conversations .*"__proto__".*replace: true/,
    )
    expect((await to.history('__proto__')).map((m) => m.content)).toEqual(['already here'])
    expect(await to.history(123456789)).toEqual([])
    await migrate(from, to, { replace: true })
    expect(await snapshot(to)).toEqual(await snapshot(from))
  })

  it('fails the count check when something else writes to the destination meanwhile, in the singular', async () => {
    const from = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const to = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await from.add('only', { role: 'user', content: 'one' })
    const error = await migrate(from, to, {
      // Another writer, once the conversation is copied.
      onProgress: (p) => {
        if (p.conversations === 1) void to.add('only', { role: 'user', content: 'not from the source' })
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isMemoryError(error, 'migration')).toBe(true)
    expect((error as Error).message).toContain(
      'the count check failed for 1 conversation: "only" has 2 messages in the destination, 1 in the source.',
    )
  })

  it('refuses, before copying anything, a conversation longer than the destination keeps', async () => {
    const from = await openMemory({ backend: memoryBackend(), maxMessages: 2000, flushOnExit: false })
    const to = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await seed(from)
    await from.addMany(
      'long',
      Array.from({ length: 1500 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })),
    )
    const error = await migrate(from, to).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isMemoryError(error, 'migration')).toBe(true)
    expect((error as Error).message).toMatch(
      /"long" holds 1500 messages, more than the destination keeps \(maxMessages: 1000\)\. Nothing was copied\. Open the destination with maxMessages: 1500 or more \(--max-messages/,
    )
    const copied: string[] = []
    for await (const summary of to.conversations()) copied.push(summary.id)
    expect(copied).toEqual([])
    const roomy = await openMemory({ backend: memoryBackend(), maxMessages: 1500, flushOnExit: false })
    expect(await migrate(from, roomy)).toEqual({ conversations: 4, messages: 1530, emptyConversations: 0 })
    expect(await roomy.history('long')).toHaveLength(1500)
  })

  it('refuses a source that shows fewer messages than it holds, and counts against what it holds', async () => {
    const dir = await tempDir()
    try {
      const path = join(dir.dir, 'long.db')
      const writer = await openMemory({ path, maxMessages: 1500, flushOnExit: false })
      await writer.addMany(
        'long',
        Array.from({ length: 1500 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })),
      )
      await writer.close()
      // Opened with the default maxMessages, history() shows the newest 1000 of the 1500 rows.
      const from = await openMemory({ path, flushOnExit: false })
      const to = await openMemory({ backend: memoryBackend(), maxMessages: 5000, flushOnExit: false })
      await expect(migrate(from, to)).rejects.toThrow(
        /"long" holds 1500 messages, more than the source keeps \(maxMessages: 1000\)\. Nothing was copied\. Open the source with maxMessages: 1500/,
      )
      await from.close()
    } finally {
      await dir.cleanup()
    }
  })

  it('into a JSON file, leaves a snapshot that alone holds every message (as the Python bot reads it)', async () => {
    const dir = await tempDir()
    try {
      const from = await openMemory({ backend: memoryBackend(), flushOnExit: false })
      await seed(from)
      const path = join(dir.dir, 'out.json')
      const to = await openMemory({ path, flushOnExit: false })
      expect(await migrate(from, to)).toEqual({ conversations: 3, messages: 30, emptyConversations: 0 })
      // Read while the destination is still open: the journal is ignored, as Python ignores it.
      const { conversations } = JSON.parse(await readFile(path, 'utf8')) as {
        conversations: Record<string, Array<{ content: string }>>
      }
      const expected: Record<string, string[]> = {}
      for (const [id, messages] of Object.entries(await snapshot(from)))
        expected[id] = (messages as Array<{ content: string }>).map((m) => m.content)
      const found: Record<string, string[]> = {}
      for (const [id, messages] of Object.entries(conversations)) found[id] = messages.map((m) => m.content)
      expect(found).toEqual(expected)
      await to.close()
    } finally {
      await dir.cleanup()
    }
  })

  it('copies no empty conversation and says so, into a JSON file, SQLite and memory alike', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(WITH_EMPTY))
      for (const [n, path] of [join(dir.dir, 'out.json'), join(dir.dir, 'out.db'), undefined].entries()) {
        const from = await openMemory({ path: source, flushOnExit: false })
        const to =
          path === undefined
            ? await openMemory({ backend: memoryBackend(), flushOnExit: false })
            : await openMemory({ path, flushOnExit: false })
        const progress: MigrateProgress[] = []
        const result = await migrate(from, to, { onProgress: (p) => progress.push(p) })
        expect(result, `destination ${n}`).toEqual({ conversations: 1, messages: 1, emptyConversations: 1 })
        expect(progress.at(-1)).toEqual({
          conversations: 1,
          totalConversations: 1,
          messages: 1,
          totalMessages: 1,
        })
        // What the result counts is what the destination holds.
        const held: Array<[string, number]> = []
        for await (const summary of to.conversations()) held.push([summary.id, summary.messages])
        expect(held).toEqual([['1', 1]])
        await Promise.all([from.close(), to.close()])
      }
    } finally {
      await dir.cleanup()
    }
  })

  it('rejects bad arguments with a TypeError naming them', async () => {
    const store = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await expect(migrate({} as Memory, store)).rejects.toThrow(/from must be a store/)
    await expect(migrate(store, null as unknown as Memory)).rejects.toThrow(/to must be a store .* got null/)
    await expect(migrate(store, store)).rejects.toThrow(/different stores/)
    const other = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await expect(migrate(store, other, { nope: 1 } as never)).rejects.toThrow(/unknown option "nope"/)
    await expect(migrate(store, other, { replace: 'yes' } as never)).rejects.toThrow(
      /replace must be a boolean/,
    )
    await expect(migrate(store, other, { onProgress: 3 } as never)).rejects.toThrow(
      /onProgress must be a function/,
    )
  })
})

describe('taurobot-memory CLI between files (built)', () => {
  it('SQLite → JSON leaves every conversation in the snapshot, even past what close() rewrites', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      // About 24 MB of JSON: more than close() rewrites by itself (16 MiB).
      const db = join(dir.dir, 'big.db')
      const writer = await openMemory({ path: db, flushOnExit: false })
      const text = 'x'.repeat(400)
      for (let c = 0; c < 60; c++) {
        await writer.addMany(
          `chat-${c}`,
          Array.from({ length: 1000 }, (_, i) => ({ role: 'user' as const, content: `${i} ${text}` })),
        )
      }
      await writer.close()
      const out = join(dir.dir, 'bigback.json')
      const { stdout, stderr } = await run(process.execPath, [cli, 'migrate', db, out])
      expect(stdout).toMatch(/^migrated 60 conversations, 60000 messages from .*; counts match\n$/)
      expect(stderr).not.toContain('SQLite backend')
      // As Python's json.load reads it: the snapshot alone, the journal ignored.
      const { conversations } = JSON.parse(await readFile(out, 'utf8')) as {
        conversations: Record<string, unknown[]>
      }
      expect(Object.keys(conversations)).toHaveLength(60)
      expect(Object.values(conversations).reduce((n, list) => n + list.length, 0)).toBe(60_000)
    } finally {
      await dir.cleanup()
    }
  }, 120_000)

  it('JSON → SQLite → JSON copies a message without a timestamp as it is', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(UNSTAMPED))
      const db = join(dir.dir, 'out.db')
      const there = await run(process.execPath, [cli, 'migrate', source, db])
      expect(there.stdout).toMatch(/^migrated 2 conversations, 4 messages from .*; counts match\n$/)
      const back = join(dir.dir, 'back.json')
      await run(process.execPath, [cli, 'migrate', db, back])
      // As Python's json.load reads it: no timestamp where there was none.
      const { conversations } = JSON.parse(await readFile(back, 'utf8')) as {
        conversations: Record<string, Array<Record<string, unknown>>>
      }
      expect(withoutLegacyIds(conversations)).toEqual(UNSTAMPED.conversations)
      for (const path of [db, back]) {
        const check = await openMemory({ path, flushOnExit: false })
        await expectUnstamped(check)
        await check.close()
      }
    } finally {
      await dir.cleanup()
    }
  })

  it('says how many empty conversations were not copied, and counts only the others', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(WITH_EMPTY))
      const db = join(dir.dir, 'out.db')
      const { stdout } = await run(process.execPath, [cli, 'migrate', source, db])
      expect(stdout).toMatch(
        /^migrated 1 conversation, 1 message from .*c\.json.* to .*out\.db.*; counts match \(1 empty conversation of the source not copied: a store keeps no conversation without messages\)\n$/,
      )
      const check = await openMemory({ path: db, flushOnExit: false })
      expect((await check.stats()).conversations).toBe(1)
      await check.close()
    } finally {
      await dir.cleanup()
    }
  })

  it('keeps every message of a conversation longer than 1000, and refuses a smaller --max-messages', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      // The Python bot keeps however many messages it was told to: 1,500 here.
      const source = join(dir.dir, 'python.json')
      const long = Array.from({ length: 1500 }, (_, i) => ({
        role: 'user',
        content: `m${i}`,
        timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
      }))
      await writeFile(source, JSON.stringify({ conversations: { long } }, null, 2))
      const db = join(dir.dir, 'out.db')
      const { stdout } = await run(process.execPath, [cli, 'migrate', source, db])
      expect(stdout).toMatch(/^migrated 1 conversation, 1500 messages from .*; counts match\n$/)
      const check = await openMemory({ path: db, maxMessages: 5000, flushOnExit: false })
      expect((await check.history('long')).map((m) => m.content)).toEqual(long.map((m) => m.content))
      await check.close()
      const refused = await run(process.execPath, [
        cli,
        'migrate',
        source,
        join(dir.dir, 'small.db'),
        '--max-messages',
        '1000',
      ]).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      )
      expect(refused?.code).toBe(1)
      expect(refused?.stderr).toMatch(
        /"long" holds 1500 messages, more than the destination keeps \(maxMessages: 1000\)\. Nothing was copied\. .*--max-messages/,
      )
    } finally {
      await dir.cleanup()
    }
  }, 60_000)

  it('refuses a negative number option, or one without its value, by name (exit 2), for migrate and compact', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      // Files that exist, so that only the option can be refused.
      const source = join(dir.dir, 'c.json')
      await copyFile(legacy, source)
      const destination = join(dir.dir, 'out.json')
      for (const [args, said] of [
        [
          ['migrate', source, destination, '--max-messages', '-5'],
          '--max-messages must be a positive integer, got -5',
        ],
        [['compact', source, '--max-messages', '-5'], '--max-messages must be a positive integer, got -5'],
        [
          ['migrate', source, destination, '--max-message-bytes', '-1'],
          '--max-message-bytes must be a positive integer of at most 268435456 (256 MiB), got -1',
        ],
        [
          ['migrate', source, destination, '--max-messages'],
          '--max-messages needs a value: a positive integer',
        ],
        [['compact', source, '--max-messages'], '--max-messages needs a value: a positive integer'],
      ] as const) {
        const refused = await run(process.execPath, [cli, ...args]).then(
          () => undefined,
          (e: { code: number; stderr: string }) => e,
        )
        expect(refused?.code).toBe(2)
        expect(refused?.stderr).toBe(
          `taurobot-memory: ${said}\nRun \`taurobot-memory --help\` for the usage.\n`,
        )
      }
      // Nothing was opened: no destination, and the source as it was.
      expect((await readdir(dir.dir)).sort()).toEqual(['c.json'])
      expect(await readFile(source, 'utf8')).toBe(await readFile(legacy, 'utf8'))
    } finally {
      await dir.cleanup()
    }
  }, 60_000)
})

if (unavailable !== undefined) {
  if (IN_CI) {
    it('Redis answers at REDIS_URL (required when CI=true)', () => {
      throw new Error(unavailable)
    })
  } else {
    it.skip(`Redis migration tests skipped: ${unavailable}`, () => undefined)
  }
} else {
  const runPrefix = `taurobot-test:${randomUUID()}:`
  const admin = new Redis(REDIS_URL)
  afterAll(async () => {
    await deleteKeys(admin, runPrefix)
    admin.disconnect()
  })

  describe('migrate between the file backend and Redis', () => {
    it('copies no empty conversation into Redis and says so', async () => {
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await writeFile(source, JSON.stringify(WITH_EMPTY))
        const from = await openMemory({ path: source, flushOnExit: false })
        const redis = await openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix: `${runPrefix}empty:` }),
          flushOnExit: false,
        })
        expect(await migrate(from, redis)).toEqual({ conversations: 1, messages: 1, emptyConversations: 1 })
        const held: Array<[string, number]> = []
        for await (const summary of redis.conversations()) held.push([summary.id, summary.messages])
        expect(held).toEqual([['1', 1]])
        await Promise.all([from.close(), redis.close()])
      } finally {
        await dir.cleanup()
      }
    })

    it('file → Redis → file copies a message without a timestamp as it is', async () => {
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await writeFile(source, JSON.stringify(UNSTAMPED))
        const file = await openMemory({ path: source, flushOnExit: false })
        const redis = await openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix: `${runPrefix}unstamped:` }),
          flushOnExit: false,
        })
        expect(await migrate(file, redis)).toEqual({ conversations: 2, messages: 4, emptyConversations: 0 })
        const back = await openMemory({ path: join(dir.dir, 'back.json'), flushOnExit: false })
        expect(await migrate(redis, back)).toEqual({ conversations: 2, messages: 4, emptyConversations: 0 })
        for (const store of [redis, back]) await expectUnstamped(store)
        await Promise.all([file.close(), redis.close(), back.close()])
        // Reopened from its journal and snapshot, the copy still has no timestamp.
        const reopened = await openMemory({ path: join(dir.dir, 'back.json'), flushOnExit: false })
        expect((await reopened.history('1')).map((m) => m.timestamp)).toEqual([
          '2020-01-01T00:00:00',
          undefined,
        ])
        await reopened.close()
      } finally {
        await dir.cleanup()
      }
    })

    it('file → Redis → file keeps every conversation and message as it was', async () => {
      const dir = await tempDir()
      try {
        const file = await openMemory({ path: join(dir.dir, 'a.json'), flushOnExit: false })
        await seed(file)
        const keyPrefix = `${runPrefix}lib:`
        const redis = await openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix }),
          flushOnExit: false,
        })
        expect(await migrate(file, redis)).toEqual({ conversations: 3, messages: 30, emptyConversations: 0 })
        const back = await openMemory({ path: join(dir.dir, 'b.json'), flushOnExit: false })
        expect(await migrate(redis, back)).toEqual({ conversations: 3, messages: 30, emptyConversations: 0 })
        expect(await snapshot(back)).toEqual(await snapshot(file))
        await Promise.all([file.close(), redis.close(), back.close()])
      } finally {
        await dir.cleanup()
      }
    })
  })

  describe('migrate between all three backends', () => {
    it('file → SQLite → Redis → SQLite → file keeps every conversation and message as it was', async () => {
      const dir = await tempDir()
      try {
        const file = await openMemory({ path: join(dir.dir, 'a.json'), flushOnExit: false })
        await seed(file)
        const sqlite = await openMemory({ path: join(dir.dir, 'a.db'), flushOnExit: false })
        expect((await sqlite.stats()).backend).toBe('sqlite')
        expect(await migrate(file, sqlite)).toEqual({ conversations: 3, messages: 30, emptyConversations: 0 })
        const redis = await openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix: `${runPrefix}three:` }),
          flushOnExit: false,
        })
        expect(await migrate(sqlite, redis)).toEqual({
          conversations: 3,
          messages: 30,
          emptyConversations: 0,
        })
        const sqliteBack = await openMemory({ path: join(dir.dir, 'b.sqlite'), flushOnExit: false })
        expect(await migrate(redis, sqliteBack)).toEqual({
          conversations: 3,
          messages: 30,
          emptyConversations: 0,
        })
        const fileBack = await openMemory({ path: join(dir.dir, 'b.json'), flushOnExit: false })
        expect(await migrate(sqliteBack, fileBack)).toEqual({
          conversations: 3,
          messages: 30,
          emptyConversations: 0,
        })
        const original = await snapshot(file)
        for (const store of [sqlite, redis, sqliteBack, fileBack])
          expect(await snapshot(store)).toEqual(original)
        await Promise.all([file, sqlite, redis, sqliteBack, fileBack].map((store) => store.close()))
      } finally {
        await dir.cleanup()
      }
    })
  })

  describe('taurobot-memory CLI (built)', () => {
    it('migrates a legacy file to Redis and back, with plain progress lines off a terminal', async () => {
      const cli = ensureBuilt('cli.js')
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'conversations.json')
        await copyFile(legacy, source)
        const url = `${REDIS_URL}`
        const keyPrefix = `${runPrefix}cli:`
        const there = await run(process.execPath, [cli, 'migrate', source, url, '--key-prefix', keyPrefix])
        expect(there.stdout).toMatch(
          /^migrated 2 conversations, 3 messages from .* to redis:\/\/.*; counts match \(1 empty conversation of the source not copied: a store keeps no conversation without messages\)\n$/,
        )
        expect(there.stderr).not.toContain('\r')
        expect(there.stderr.trim().split('\n').at(-1)).toBe('migrated 2/2 conversations, 3/3 messages')

        const again = await run(process.execPath, [
          cli,
          'migrate',
          source,
          url,
          '--key-prefix',
          keyPrefix,
        ]).then(
          () => undefined,
          (e: { code: number; stderr: string }) => e,
        )
        expect(again?.code).toBe(1)
        expect(again?.stderr).toMatch(/already holds 2 of the conversations.*replace/)

        const target = join(dir.dir, 'back', 'conversations.json')
        await run(process.execPath, [cli, 'migrate', url, target, '--key-prefix', keyPrefix])
        const { stdout } = await run('python3', [
          '-c',
          'import json,sys; c=json.load(open(sys.argv[1]))["conversations"]; print(json.dumps(c, sort_keys=True))',
          target,
        ])
        const original = JSON.parse(await readFile(legacy, 'utf8')) as {
          conversations: Record<string, unknown[]>
        }
        const { 42: _empty, ...withMessages } = original.conversations
        expect(withoutLegacyIds(JSON.parse(stdout))).toEqual(withMessages)
      } finally {
        await dir.cleanup()
      }
    }, 60_000)

    it('moves a legacy file into SQLite, to Redis, back to SQLite and out to a file Python reads', async () => {
      const cli = ensureBuilt('cli.js')
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'conversations.json')
        await copyFile(legacy, source)
        const keyPrefix = `${runPrefix}cli-sqlite:`
        const db = join(dir.dir, 'memory', 'conversations.db')
        const steps: Array<[string, string, string[]]> = [
          [source, db, []],
          [db, REDIS_URL, ['--to-key-prefix', keyPrefix]],
          [REDIS_URL, join(dir.dir, 'back.sqlite3'), ['--from-key-prefix', keyPrefix]],
          [join(dir.dir, 'back.sqlite3'), join(dir.dir, 'back.json'), []],
        ]
        for (const [from, to, extra] of steps) {
          const { stdout } = await run(process.execPath, [cli, 'migrate', from, to, ...extra])
          // The legacy file's empty conversation is said apart, and is in no later store.
          const empty = from === source ? ' \\(1 empty conversation of the source not copied: .*\\)' : ''
          expect(stdout).toMatch(
            new RegExp(`^migrated 2 conversations, 3 messages from .*; counts match${empty}\\n$`),
          )
        }
        const { stdout } = await run('python3', [
          '-c',
          'import json,sys; c=json.load(open(sys.argv[1]))["conversations"]; print(json.dumps(c, sort_keys=True))',
          join(dir.dir, 'back.json'),
        ])
        const original = JSON.parse(await readFile(legacy, 'utf8')) as {
          conversations: Record<string, unknown[]>
        }
        const { 42: _empty, ...withMessages } = original.conversations
        expect(withoutLegacyIds(JSON.parse(stdout))).toEqual(withMessages)
        const missing = await run(process.execPath, [
          cli,
          'migrate',
          join(dir.dir, 'none.db'),
          REDIS_URL,
        ]).then(
          () => undefined,
          (e: { code: number; stderr: string }) => e,
        )
        expect(missing?.code).toBe(2)
        expect(missing?.stderr).toMatch(/no conversations database at .*none\.db/)
      } finally {
        await dir.cleanup()
      }
    }, 60_000)

    it('moves conversations from one key prefix to another', async () => {
      const cli = ensureBuilt('cli.js')
      const from = `${runPrefix}old:`
      const to = `${runPrefix}new:`
      const source = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: from }),
        flushOnExit: false,
      })
      await seed(source)
      await source.close()
      const moved = await run(process.execPath, [
        cli,
        'migrate',
        REDIS_URL,
        REDIS_URL,
        '--from-key-prefix',
        from,
        '--to-key-prefix',
        to,
      ])
      expect(moved.stdout).toMatch(/^migrated 3 conversations, 30 messages .*counts match\n$/)
      const [a, b] = await Promise.all(
        [from, to].map((keyPrefix) =>
          openMemory({ backend: redisBackend({ url: REDIS_URL, keyPrefix }), flushOnExit: false }),
        ),
      )
      expect(await snapshot(b as Memory)).toEqual(await snapshot(a as Memory))
      await Promise.all([a?.close(), b?.close()])
    }, 60_000)

    it('draws a progress bar on a terminal', async () => {
      const cli = ensureBuilt('cli.js')
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'conversations.json')
        await copyFile(legacy, source)
        const command = [
          process.execPath,
          cli,
          'migrate',
          source,
          REDIS_URL,
          '--key-prefix',
          `${runPrefix}tty:`,
        ]
        // `script` gives the CLI a real pseudo-terminal.
        const output = await new Promise<string>((resolve, reject) => {
          const child = spawn('script', ['-qec', command.map((a) => `'${a}'`).join(' '), '/dev/null'], {
            stdio: ['ignore', 'pipe', 'inherit'],
          })
          let text = ''
          child.stdout.on('data', (chunk: Buffer) => {
            text += chunk.toString()
          })
          child.on('error', reject)
          child.on('exit', (code) =>
            code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`)),
          )
        })
        expect(output).toContain('\r[..............................] 0% 0/2 conversations')
        expect(output).toContain('\r[##############################] 100% 2/2 conversations, 3/3 messages')
        expect(output).toMatch(/counts match/)
      } finally {
        await dir.cleanup()
      }
    }, 60_000)

    it('exits 1 without writing when the Redis URL names a database the server does not have', async () => {
      const cli = ensureBuilt('cli.js')
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await writeFile(source, JSON.stringify(WITH_EMPTY))
        const keyPrefix = `${runPrefix}db99:`
        const url = `${REDIS_URL.replace(/\/\d*$/, '')}/99`
        const failed = await run(process.execPath, [
          cli,
          'migrate',
          source,
          url,
          '--to-key-prefix',
          keyPrefix,
        ]).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        )
        expect(failed.code).toBe(1)
        expect(failed.stderr).toMatch(/refused to select database 99 at open: ERR DB index is out of range/)
        expect(await admin.exists(`${keyPrefix}format`)).toBe(0)
      } finally {
        await dir.cleanup()
      }
    }, 60_000)

    it('exits 2 with the reason and a pointer to --help on bad arguments, 1 with the reason on failure', async () => {
      const cli = ensureBuilt('cli.js')
      const fail = (args: string[]) =>
        run(process.execPath, [cli, ...args]).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        )
      expect((await fail([])).code).toBe(2)
      const bad = await fail(['migrate', 'only-one'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toBe(
        'taurobot-memory: migrate needs exactly two arguments: <from> <to>\n' +
          'Run `taurobot-memory --help` for the usage.\n',
      )
      for (const help of [['--help'], ['-h'], ['migrate', '--help'], ['migrate', 'a', 'b', '-h']]) {
        const shown = await run(process.execPath, [cli, ...help])
        expect(shown.stdout).toMatch(/^Usage: taurobot-memory migrate <from> <to> \[options\]\n/)
      }
      expect((await fail(['copy', 'a', 'b'])).stderr).toMatch(/unknown command "copy"/)
      const typo = await fail(['migrate', 'a.json', 'b.db', '--replac'])
      expect(typo.code).toBe(2)
      expect(typo.stderr).toMatch(
        /^taurobot-memory: unknown option --replac: did you mean --replace\?\nRun `taurobot-memory --help` for the usage\.\n$/,
      )
      for (const option of ['--key-prefix', '--from-key-prefix', '--to-key-prefix']) {
        // A port nothing listens on: refused before any connection, so nothing is written at the root.
        const empty = await fail(['migrate', 'redis://127.0.0.1:1', 'redis://127.0.0.1:1/1', option, ''])
        expect(empty.code).toBe(2)
        expect(empty.stderr).toMatch(
          new RegExp(
            `^taurobot-memory: ${option} must not be empty: the store's keys \\(format, limit, .*would then sit at the root of the keyspace.*clash with other applications' keys`,
          ),
        )
      }
      expect((await fail(['migrate', 'a', 'b', '--max-messages', '0'])).stderr).toMatch(
        /--max-messages must be a positive integer, got 0/,
      )
      const samePlace = await fail(['migrate', REDIS_URL, REDIS_URL])
      expect(samePlace.code).toBe(2)
      expect(samePlace.stderr).toMatch(/<from> and <to> are the same store/)
      expect((await fail(['migrate', REDIS_URL, 'x.json', '--to-key-prefix', 'p:'])).stderr).toMatch(
        /--to-key-prefix applies to a Redis URL, got the file x.json/,
      )
      // Neither end is Redis: a prefix given anyway was ignored without a word.
      const noRedis = await fail(['migrate', 'a.json', 'b.db', '--key-prefix', 'p:'])
      expect(noRedis.code).toBe(2)
      expect(noRedis.stderr).toMatch(
        /^taurobot-memory: --key-prefix applies to a Redis URL, got the files a.json and b.db\n/,
      )
      // A URL that is not a store must not become a file named after it.
      const cwd = await tempDir()
      try {
        const http = await run(process.execPath, [cli, 'migrate', 'c.json', 'http://127.0.0.1:6379'], {
          cwd: cwd.dir,
        }).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        )
        expect(http.code).toBe(2)
        expect(http.stderr).toMatch(/path "http:\/\/127\.0\.0\.1:6379" is a http: URL, which is not a store/)
        expect(await readdir(cwd.dir)).toEqual([])
      } finally {
        await cwd.cleanup()
      }
      // The same file spelled two ways is one store: refused before its lock is taken twice.
      const same = await fail(['migrate', 'memory/c.json', './memory/../memory/c.json'])
      expect(same.code).toBe(2)
      expect(same.stderr).toMatch(/<from> and <to> are the same store/)
      const compactDb = await fail(['compact', 'memory/conversations.db'])
      expect(compactDb.code).toBe(2)
      expect(compactDb.stderr).toMatch(
        /compact rewrites a JSON conversations file; memory\/conversations\.db is a SQLite database/,
      )
      expect((await fail(['compact', 'http://x/c.json'])).stderr).toMatch(
        /is a http: URL, which is not a store/,
      )
      const missing = await fail(['migrate', '/nonexistent/conversations.json', REDIS_URL])
      expect(missing.code).toBe(2)
      expect(missing.stderr).toMatch(/no conversations file at \/nonexistent\/conversations.json/)
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await copyFile(legacy, source)
        const port = 1
        const down = await fail(['migrate', source, `redis://user:pw@127.0.0.1:${port}`])
        expect(down.code).toBe(1)
        expect(down.stderr).toMatch(/cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/)
      } finally {
        await dir.cleanup()
      }
    }, 60_000)
  })
}

describe('taurobot-memory migrate (built): counts in its messages', () => {
  it('says "1 conversation, 1 message", in the summary and the progress lines', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'conversations.json')
      await writeFile(
        source,
        JSON.stringify({
          conversations: { '1': [{ role: 'user', content: 'hi', timestamp: '2026-01-01T00:00:00Z' }] },
        }),
      )
      const moved = await run(process.execPath, [cli, 'migrate', source, join(dir.dir, 'conversations.db')])
      expect(moved.stdout).toMatch(/^migrated 1 conversation, 1 message from .*; counts match\n$/)
      expect(moved.stderr.trim().split('\n').at(-1)).toBe('migrated 1/1 conversation, 1/1 message')
    } finally {
      await dir.cleanup()
    }
  }, 30_000)
})

/** Why a read-only bind mount cannot be made here (it needs root and mount), or `undefined`. */
function readOnlyMountUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'bind mounts need Linux'
  const probe = spawnSync('mount', ['--version'])
  if (probe.status !== 0) return 'mount is not installed'
  return process.getuid?.() === 0 ? undefined : 'a bind mount needs root'
}

describe.skipIf(readOnlyMountUnavailable() !== undefined)(
  'taurobot-memory migrate from a read-only file system (built)',
  () => {
    it.each(['c.json', 'c.db'])(
      'a %s source says it is read-only and to migrate from a copy',
      async (name) => {
        const cli = ensureBuilt('cli.js')
        const dir = await tempDir()
        const readOnly = join(dir.dir, 'ro')
        let mounted = false
        try {
          await mkdir(join(dir.dir, 'src'))
          await mkdir(readOnly)
          const seeded = await openMemory({ path: join(dir.dir, 'src', name), flushOnExit: false })
          await seeded.add(1, { role: 'user', content: 'kept' })
          await seeded.close()
          execFileSync('mount', ['--bind', '-o', 'ro', join(dir.dir, 'src'), readOnly])
          mounted = true
          const source = join(readOnly, name)
          const before = await readdir(readOnly)
          const failed = await run(process.execPath, [
            cli,
            'migrate',
            source,
            join(dir.dir, 'out.json'),
          ]).then(
            () => undefined,
            (error: { code: number; stderr: string }) => error,
          )
          expect(failed?.code).toBe(1)
          expect(failed?.stderr).toContain(
            `cannot open the source ${JSON.stringify(source)}: ${JSON.stringify(readOnly)} is on a read-only file system, and opening a store creates files beside it. Nothing was changed. Copy ${JSON.stringify(source)}`,
          )
          expect(failed?.stderr).toContain('to a writable directory and migrate from the copy.')
          expect(failed?.stderr).not.toContain('point path at a writable location')
          expect(await readdir(readOnly)).toEqual(before)
        } finally {
          if (mounted) execFileSync('umount', [readOnly])
          await dir.cleanup()
        }
      },
      30_000,
    )
  },
)
