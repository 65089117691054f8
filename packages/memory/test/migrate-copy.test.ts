import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { freshFiles } from '../src/fresh-destination.js'
import { isMemoryError, type Memory, migrate, openMemory } from '../src/index.js'
import { locate } from '../src/location.js'
import { redisBackend } from '../src/redis.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './backends/redis/cluster-servers.js'
import { ensureBuilt, tempDir } from './helpers.js'

const run = promisify(execFile)
const unavailable = await redisUnavailable()

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [ensureBuilt('cli.js'), ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  )
}

// As the Python bot may write it: a time in epoch seconds, and a message without one.
const PYTHON_STYLE = {
  conversations: {
    '2': [{ role: 'user', content: 'hi', timestamp: '2025-01-01T00:00:00Z' }],
    '3': [
      { role: 'user', content: 'old', timestamp: 1735689600 },
      { role: 'assistant', content: 'unstamped' },
    ],
  },
}

async function ids(memory: Memory): Promise<string[]> {
  const found: string[] = []
  for await (const { id } of memory.conversations()) found.push(id)
  return found.sort()
}

describe('migrate copies a timestamp that is not an ISO string as it is', () => {
  const destinations: Array<[string, (dir: string, prefix: string) => Parameters<typeof openMemory>[0]]> = [
    ['SQLite', (dir) => ({ path: join(dir, 'o3.db'), flushOnExit: false })],
    ['JSON', (dir) => ({ path: join(dir, 'o3.json'), flushOnExit: false })],
  ]
  if (unavailable === undefined) {
    destinations.push([
      'Redis',
      (_, prefix) => ({ backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }), flushOnExit: false }),
    ])
  }
  for (const [name, options] of destinations) {
    it(`into ${name}: read back identically, never pruned, and no lastTimestamp`, async () => {
      const dir = await tempDir()
      const prefix = `test:migrate-copy:${randomUUID()}:`
      const source = join(dir.dir, 'c2.json')
      await writeFile(source, JSON.stringify(PYTHON_STYLE))
      const from = await openMemory({ path: source, flushOnExit: false })
      let to = await openMemory(options(dir.dir, prefix))
      try {
        const expected = await from.history('3')
        expect(expected[0]?.timestamp).toBe(1735689600)
        expect(await migrate(from, to)).toMatchObject({ conversations: 2, messages: 3 })
        // Read again by a store of its own: what was written, not what this one keeps in memory.
        await to.close()
        to = await openMemory(options(dir.dir, prefix))
        expect(await to.history('3')).toEqual(expected)
        const summaries = []
        for await (const s of to.conversations()) summaries.push(s)
        expect(summaries.find((s) => s.id === '3')).toEqual({ id: '3', messages: 2 })
        expect(await to.prune({ olderThanDays: 1 })).toBe(1)
        expect(await ids(to)).toEqual(['3'])
      } finally {
        await Promise.all([from.close(), to.close()])
        if (name === 'Redis') {
          const client = new Redis(REDIS_URL)
          await deleteKeys(client, prefix)
          client.disconnect()
        }
        await dir.cleanup()
      }
    }, 30_000)
  }

  it('on the command line, c2.json → o3.db copies every conversation (built)', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c2.json')
      await writeFile(source, JSON.stringify(PYTHON_STYLE))
      const result = await cli(['migrate', source, join(dir.dir, 'o3.db')])
      expect(result.stderr).not.toMatch(/taurobot-memory:/)
      expect(result.stdout).toMatch(/^migrated 2 conversations, 3 messages .*; counts match\n$/)
      expect(result.code).toBe(0)
    } finally {
      await dir.cleanup()
    }
  }, 30_000)
})

describe('the source is only read (built)', () => {
  it('a JSON source: its directory holds the same files, unchanged, after the migration', async () => {
    const dir = await tempDir()
    try {
      const from = join(dir.dir, 'bot')
      await mkdir(from)
      const source = join(from, 'conversations.json')
      await writeFile(source, JSON.stringify(PYTHON_STYLE))
      const before = await readdir(from)
      const result = await cli(['migrate', source, join(dir.dir, 'o.json')])
      expect(result.stdout).toMatch(/^migrated 2 conversations, 3 messages/)
      expect(await readdir(from)).toEqual(before)
      expect(JSON.parse(await readFile(source, 'utf8'))).toEqual(PYTHON_STYLE)
    } finally {
      await dir.cleanup()
    }
  }, 30_000)
})

describe('a Redis source prefix that holds no store (built)', () => {
  it.skipIf(unavailable !== undefined)(
    'exit 2 naming the prefix; nothing written to it, no destination created',
    async () => {
      const dir = await tempDir()
      const prefix = `test:migrate-copy:${randomUUID()}:`
      const client = new Redis(REDIS_URL)
      try {
        const to = join(dir.dir, 'o.json')
        const result = await cli(['migrate', REDIS_URL, to, '--from-key-prefix', prefix])
        expect(result.code).toBe(2)
        expect(result.stderr).toContain(
          `taurobot-memory: no conversations under the key prefix ${JSON.stringify(prefix)} at ${REDIS_URL}`,
        )
        expect(result.stderr).toContain('Check --key-prefix or --from-key-prefix')
        expect(await client.exists(`${prefix}format`, `${prefix}limit`)).toBe(0)
        expect(await readdir(dir.dir)).toEqual([])
      } finally {
        await deleteKeys(client, prefix)
        client.disconnect()
        await dir.cleanup()
      }
    },
    30_000,
  )
})

describe('a message the destination cannot take is found before anything is written', () => {
  it('names the conversation and the message index; nothing copied', async () => {
    const dir = await tempDir()
    const source = join(dir.dir, 'c.json')
    await writeFile(
      source,
      JSON.stringify({
        conversations: {
          '1': [{ role: 'user', content: 'fine' }],
          '2': [
            { role: 'user', content: 'fine too' },
            { role: 'user', content: 'x'.repeat(2000) },
          ],
        },
      }),
    )
    const from = await openMemory({ path: source, flushOnExit: false })
    const to = await openMemory({ path: join(dir.dir, 'o.db'), flushOnExit: false, maxMessageBytes: 1000 })
    try {
      const error = await migrate(from, to).catch((e: unknown) => e)
      expect(isMemoryError(error, 'migration')).toBe(true)
      expect((error as Error).message).toMatch(
        /^\[@taurobot\/memory\] message 1 of conversation "2" in the source cannot be copied: message is \d+ bytes once serialised, above maxMessageBytes \(1000\).*Nothing was copied\./,
      )
      expect((error as Error).message).toMatch(
        /Open the destination with maxMessageBytes: \d+ or more \(--max-message-bytes on the command line\)/,
      )
      expect((error as { details: unknown }).details).toMatchObject({
        conversation: '2',
        index: 1,
        bytes: expect.any(Number),
      })
      expect(await ids(to)).toEqual([])
    } finally {
      await Promise.all([from.close(), to.close()])
      await dir.cleanup()
    }
  })
})

describe('a source conversation holding two messages with one id', () => {
  // add() does not check ids already stored, and the Python bot or a hand edit may copy a message.
  for (const name of ['o.db', 'o.json']) {
    it(`is copied whole into ${name}, as it is`, async () => {
      const dir = await tempDir()
      const source = join(dir.dir, 'c.json')
      await writeFile(
        source,
        JSON.stringify({
          conversations: {
            '1': [
              { role: 'user', content: 'first', id: 'same' },
              { role: 'user', content: 'second', id: 'same' },
            ],
            '2': [{ role: 'user', content: 'other' }],
          },
        }),
      )
      const from = await openMemory({ path: source, flushOnExit: false })
      let to = await openMemory({ path: join(dir.dir, name), flushOnExit: false })
      try {
        const expected = await from.history('1')
        expect(await migrate(from, to)).toMatchObject({ conversations: 2, messages: 3 })
        await to.close()
        to = await openMemory({ path: join(dir.dir, name), flushOnExit: false })
        expect(await to.history('1')).toEqual(expected)
      } finally {
        await Promise.all([from.close(), to.close()])
        await dir.cleanup()
      }
    })
  }
})

describe('a source conversation whose id no store takes', () => {
  for (const [label, id] of [
    ['empty', ''],
    ['with a lone surrogate', '\uD800'],
  ] as const) {
    it(`${label}: refused before anything is copied, naming the conversation`, async () => {
      const dir = await tempDir()
      const source = join(dir.dir, 'c.json')
      await writeFile(
        source,
        JSON.stringify({
          conversations: { '1': [{ role: 'user', content: 'fine' }], [id]: [{ role: 'user', content: 'x' }] },
        }),
      )
      const from = await openMemory({ path: source, flushOnExit: false })
      const to = await openMemory({ path: join(dir.dir, 'o.db'), flushOnExit: false })
      try {
        const error = await migrate(from, to).catch((e: unknown) => e)
        expect(isMemoryError(error, 'migration')).toBe(true)
        expect((error as Error).message).toContain(
          `conversation ${JSON.stringify(id)} of the source cannot be copied: id must be`,
        )
        expect((error as Error).message).toMatch(
          /Nothing was copied\. Rename or remove that conversation in the source/,
        )
        expect((error as { details: unknown }).details).toMatchObject({ conversation: id })
        expect(await ids(to)).toEqual([])
      } finally {
        await Promise.all([from.close(), to.close()])
        await dir.cleanup()
      }
    })
  }
})

describe('--max-message-bytes (built)', () => {
  // Above the default maxMessageBytes (1 MiB) once serialised.
  const BIG = {
    conversations: {
      '1': [{ role: 'user', content: 'small' }],
      '7': [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }],
    },
  }

  it('a message above 1 MiB: refused naming the option and the size, then copied with it', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(BIG))
      const to = join(dir.dir, 'o.json')
      const refused = await cli(['migrate', source, to])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(
        /message 0 of conversation "7" in the source cannot be copied: message is (\d+) bytes .*Nothing was copied\. Open the destination with maxMessageBytes: \1 or more \(--max-message-bytes on the command line\)/,
      )
      expect(await readdir(dir.dir)).toEqual(['c.json'])
      const copied = await cli(['migrate', source, to, '--max-message-bytes', '3000000'])
      expect(copied.stdout).toMatch(/^migrated 2 conversations, 2 messages .*; counts match\n$/)
      const stored = await openMemory({ path: to, flushOnExit: false, maxMessageBytes: 3_000_000 })
      try {
        expect((await stored.history('7'))[0]?.content).toBe(BIG.conversations['7'][0]?.content)
      } finally {
        await stored.close()
      }
    } finally {
      await dir.cleanup()
    }
  }, 60_000)

  it('a value that is not a positive integer up to 256 MiB: exit 2, naming the option and the value', async () => {
    for (const value of ['0', '-1', '1.5', 'abc', '1e6', '268435457']) {
      const result = await cli(['migrate', 'a.json', 'b.json', `--max-message-bytes=${value}`])
      expect(result.code, value).toBe(2)
      expect(result.stderr).toContain(
        `--max-message-bytes must be a positive integer of at most 268435456 (256 MiB), got ${value}`,
      )
    }
  }, 60_000)

  it('is in the help', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/--max-message-bytes <n> +largest message <to> takes/)
  })
})

describe('a refused migration leaves no new destination behind (built)', () => {
  const LONG = {
    conversations: {
      '1': [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    },
  }
  for (const name of ['new.db', 'new.json', 'new.sqlite3']) {
    it(`--max-messages 1 into ${name}: refused, no file created`, async () => {
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await writeFile(source, JSON.stringify(LONG))
        const before = await readdir(dir.dir)
        const result = await cli(['migrate', source, join(dir.dir, name), '--max-messages', '1'])
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(
          /more than the destination keeps \(maxMessages: 1\)\. Nothing was copied/,
        )
        // Nothing named after the destination, and nothing new beside the source either.
        expect(await readdir(dir.dir)).toEqual(before)
        expect(before).toEqual(['c.json'])
      } finally {
        await dir.cleanup()
      }
    }, 30_000)
  }

  for (const name of ['new/deeper/o.db', 'new/deeper/o.json']) {
    it(`into ${name}, whose directories did not exist: refused, the directories it made removed`, async () => {
      const dir = await tempDir()
      try {
        const source = join(dir.dir, 'c.json')
        await writeFile(source, JSON.stringify(LONG))
        const result = await cli(['migrate', source, join(dir.dir, name), '--max-messages', '1'])
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/Nothing was copied/)
        expect(await readdir(dir.dir)).toEqual(['c.json'])
      } finally {
        await dir.cleanup()
      }
    }, 30_000)
  }

  it('a directory that existed before is kept, only the one below it that the run made is removed', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(LONG))
      await mkdir(join(dir.dir, 'kept'))
      const result = await cli([
        'migrate',
        source,
        join(dir.dir, 'kept', 'new', 'o.db'),
        '--max-messages',
        '1',
      ])
      expect(result.code).toBe(1)
      expect(await readdir(join(dir.dir, 'kept'))).toEqual([])
    } finally {
      await dir.cleanup()
    }
  }, 30_000)

  it('a directory the run made is kept when something else put a file in it meanwhile', async () => {
    const dir = await tempDir()
    try {
      const path = join(dir.dir, 'a', 'b', 'o.json')
      const fresh = await freshFiles(locate(path))
      const store = await openMemory({ path, flushOnExit: false })
      await writeFile(join(dir.dir, 'a', 'notes.txt'), 'not the store')
      await fresh.removeIfEmpty(store)
      expect(await readdir(join(dir.dir, 'a'))).toEqual(['notes.txt'])
    } finally {
      await dir.cleanup()
    }
  })

  it('a source with a message that is not one (content null): refused, no file created', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      const broken = {
        conversations: { '1': [{ role: 'user', content: 'ok' }], '2': [{ role: 'user', content: null }] },
      }
      await writeFile(source, JSON.stringify(broken))
      const result = await cli(['migrate', source, join(dir.dir, 'new.db')])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(
        /message 0 of conversation "2" in .* is not a message: its content is null/,
      )
      expect((await readdir(dir.dir)).filter((f) => f.startsWith('new'))).toEqual([])
    } finally {
      await dir.cleanup()
    }
  }, 30_000)

  it('a destination that existed before is kept, even empty', async () => {
    const dir = await tempDir()
    try {
      const source = join(dir.dir, 'c.json')
      await writeFile(source, JSON.stringify(LONG))
      const existing = join(dir.dir, 'kept.db')
      const made = await openMemory({ path: existing, flushOnExit: false })
      await made.close()
      const result = await cli(['migrate', source, existing, '--max-messages', '1'])
      expect(result.code).toBe(1)
      expect(await readdir(dir.dir)).toContain('kept.db')
      expect((await readFile(existing)).subarray(0, 15).toString()).toBe('SQLite format 3')
    } finally {
      await dir.cleanup()
    }
  }, 30_000)
})

describe('nothing the destination held before is cut (built)', () => {
  // The CLI used to open <to> with maxMessages = max(1000, the longest conversation of <from>):
  // a JSON file trims its longer conversations as it loads, and the rewrite at the end of the
  // migration wrote them cut.
  for (const flags of [[], ['--max-messages', '5']]) {
    it(`a JSON destination's own 2,500-message conversation stays whole${flags.length > 0 ? ` with ${flags.join(' ')}` : ''}`, async () => {
      const dir = await tempDir()
      try {
        const big = Array.from({ length: 2500 }, (_, i) => ({
          role: 'user',
          content: `old ${i}`,
          timestamp: '2026-01-01T00:00:00',
        }))
        const existing = join(dir.dir, 'existing.json')
        await writeFile(existing, JSON.stringify({ conversations: { big } }))
        const source = await openMemory({ path: join(dir.dir, 'src.db'), flushOnExit: false })
        await source.add('small', { role: 'user', content: 'hello' })
        await source.close()
        const result = await cli(['migrate', join(dir.dir, 'src.db'), existing, ...flags])
        expect(result.stderr).not.toMatch(/warning/)
        expect(result.code).toBe(0)
        // The Python bot's reader: the snapshot alone.
        const snapshot = JSON.parse(await readFile(existing, 'utf8')) as {
          conversations: Record<string, Array<{ content: string }>>
        }
        expect(snapshot.conversations.big?.length).toBe(2500)
        expect(snapshot.conversations.big?.[0]?.content).toBe('old 0')
        expect(snapshot.conversations.small?.map((m) => m.content)).toEqual(['hello'])
      } finally {
        await dir.cleanup()
      }
    }, 30_000)
  }
})
