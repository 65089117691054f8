import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { link } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { type Memory, migrate, openMemory } from '../src/index.js'
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

/** `migrate --replace` from one key prefix to another of the same Redis database. */
function replaceBetweenPrefixes(from: string, to: string): ReturnType<typeof cli> {
  return cli(['migrate', REDIS_URL, REDIS_URL, '--from-key-prefix', from, '--to-key-prefix', to, '--replace'])
}

async function seed(memory: Memory): Promise<void> {
  for (const id of ['a', 'b', 'c']) await memory.add(id, { role: 'user', content: `hello ${id}` })
  await memory.flush()
}

async function lengths(memory: Memory): Promise<Record<string, number>> {
  const found: Record<string, number> = {}
  for await (const { id, messages } of memory.conversations()) found[id] = messages
  return found
}

/** Other spellings of the server at REDIS_URL: the database index, another scheme case, localhost. */
function aliases(url: string): string[] {
  const u = new URL(url)
  const out = [
    `${url.replace(/\/$/, '')}${u.pathname.length > 1 ? '' : '/0'}`,
    url.replace(/^redis/, 'REDIS'),
  ]
  if (u.hostname === '127.0.0.1') out.push(url.replace('127.0.0.1', 'localhost'))
  if (u.port === '') out.push(url.replace(u.host, `${u.host}:6379`))
  else if (u.port === '6379') out.push(url.replace(`:${u.port}`, ''))
  return out
}

describe('migrate refuses one store under two names (built)', () => {
  it('a SQLite database and a hard link to it: refused, nothing deleted', async () => {
    const dir = await tempDir()
    try {
      const a = join(dir.dir, 'a.db')
      const writer = await openMemory({ path: a, flushOnExit: false })
      await seed(writer)
      await writer.close()
      const hard = join(dir.dir, 'hard.db')
      await link(a, hard)
      const result = await cli(['migrate', a, hard, '--replace'])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^taurobot-memory: <from> and <to> are the same store/)
      const reader = await openMemory({ path: a, flushOnExit: false })
      expect(await lengths(reader)).toEqual({ a: 1, b: 1, c: 1 })
      await reader.close()
    } finally {
      await dir.cleanup()
    }
  }, 30_000)

  it('a JSON file and a hard link to it: refused', async () => {
    const dir = await tempDir()
    try {
      const a = join(dir.dir, 'a.json')
      const writer = await openMemory({ path: a, flushOnExit: false })
      await seed(writer)
      await writer.close()
      const hard = join(dir.dir, 'other.json')
      await link(a, hard)
      const result = await cli(['migrate', a, hard, '--replace'])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/<from> and <to> are the same store/)
    } finally {
      await dir.cleanup()
    }
  }, 30_000)

  it.skipIf(unavailable)(
    'one Redis server, database and prefix under other URLs: refused, nothing deleted',
    async () => {
      const prefix = `test:same-store:${randomUUID()}:`
      const writer = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
        flushOnExit: false,
      })
      const client = new Redis(REDIS_URL)
      try {
        await seed(writer)
        for (const alias of aliases(REDIS_URL)) {
          const result = await cli(['migrate', REDIS_URL, alias, '--key-prefix', prefix, '--replace'])
          expect(result.stderr, alias).toMatch(/^taurobot-memory: <from> and <to> are the same store/)
          expect(result.code).toBe(2)
        }
        expect(await lengths(writer)).toEqual({ a: 1, b: 1, c: 1 })
        // Another prefix on the same server is another store.
        const other = `${prefix}copy:`
        const moved = await cli([
          'migrate',
          REDIS_URL,
          aliases(REDIS_URL)[0] as string,
          '--from-key-prefix',
          prefix,
          '--to-key-prefix',
          other,
        ])
        expect(moved.stdout).toMatch(/^migrated 3 conversations, 3 messages/)
        await deleteKeys(client, other)
      } finally {
        await writer.close()
        await deleteKeys(client, prefix)
        client.disconnect()
      }
    },
    60_000,
  )
})

describe('migrate() with --replace', () => {
  it.skipIf(unavailable)(
    'reads each conversation before deleting it, so two handles on one store lose nothing',
    async () => {
      const prefix = `test:same-store:${randomUUID()}:`
      const from = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
        flushOnExit: false,
      })
      const to = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
        flushOnExit: false,
      })
      const client = new Redis(REDIS_URL)
      try {
        await seed(from)
        const result = await migrate(from, to, { replace: true })
        expect(result).toMatchObject({ conversations: 3, messages: 3 })
        expect(await lengths(from)).toEqual({ a: 1, b: 1, c: 1 })
        expect((await from.history('b')).map((m) => m.content)).toEqual(['hello b'])
      } finally {
        await Promise.all([from.close(), to.close()])
        await deleteKeys(client, prefix)
        client.disconnect()
      }
    },
    30_000,
  )
})

// The Redis backend names every key it reads, writes or deletes (`<prefix>format`, `<prefix>{3}:i`,
// `<prefix>{3}:m:<id>`…) and never lists keys by pattern: a prefix inside another's keyspace
// (`app:` and `app:x:`) shares no key with it, so such stores are two stores, and --replace into
// one deletes nothing of the other.
describe('two Redis key prefixes, one inside the other (built)', () => {
  async function contents(prefix: string): Promise<Record<string, string[]>> {
    const memory = await openMemory({
      backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
      flushOnExit: false,
    })
    try {
      const found: Record<string, string[]> = {}
      for await (const { id } of memory.conversations())
        found[id] = (await memory.history(id)).map((m) => m.content)
      return found
    } finally {
      await memory.close()
    }
  }

  async function write(prefix: string, messages: Record<string, string>): Promise<void> {
    const memory = await openMemory({
      backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
      flushOnExit: false,
    })
    for (const [id, content] of Object.entries(messages)) await memory.add(id, { role: 'user', content })
    await memory.close()
  }

  // Only a prefix that goes on as the other's keys do ({<bucket>}:m:, a conversation's list; or
  // {<bucket>}:w:, a writer's mark) shares keys with it: its `format` key is the list of the
  // other's conversation "format", in bucket 0 or wherever that name falls.
  it.skipIf(unavailable)(
    'app: and app:{0}:m: (either way): refused, naming both prefixes, nothing written',
    async () => {
      const base = `test:overlap:${randomUUID()}:`
      const [outer, inner] = [`${base}app:`, `${base}app:{0}:m:`]
      const client = new Redis(REDIS_URL)
      try {
        await write(outer, { a: 'outer a' })
        for (const [from, to] of [
          [outer, inner],
          [inner, outer],
        ] as const) {
          const result = await replaceBetweenPrefixes(from, to)
          expect(result.code).toBe(2)
          expect(result.stderr).toContain(
            `the key prefixes ${JSON.stringify(from)} of <from> and ${JSON.stringify(to)} of <to> share keys on this Redis database`,
          )
        }
        expect(await client.keys(`${inner}*`)).toEqual([])
        expect(await contents(outer)).toEqual({ a: ['outer a'] })
      } finally {
        await deleteKeys(client, base)
        client.disconnect()
      }
    },
    60_000,
  )

  for (const [outerEnd, innerEnd] of [
    ['app:', 'app:x:'],
    ['P', 'P:'],
  ] as const) {
    it.skipIf(unavailable)(
      `${outerEnd} and ${innerEnd}: --replace either way keeps the other intact`,
      async () => {
        const base = `test:overlap:${randomUUID()}:`
        const [outer, inner] = [`${base}${outerEnd}`, `${base}${innerEnd}`]
        const client = new Redis(REDIS_URL)
        try {
          await write(outer, { a: 'outer a', b: 'outer b' })
          await write(inner, { a: 'inner a', c: 'inner c' })
          const intoInner = await replaceBetweenPrefixes(outer, inner)
          expect(intoInner.stdout).toMatch(/^migrated 2 conversations, 2 messages/)
          expect(await contents(outer)).toEqual({ a: ['outer a'], b: ['outer b'] })
          expect(await contents(inner)).toEqual({ a: ['outer a'], b: ['outer b'], c: ['inner c'] })

          await write(inner, { c: 'inner c again' })
          await write(outer, { e: 'outer e' })
          const intoOuter = await replaceBetweenPrefixes(inner, outer)
          expect(intoOuter.stdout).toMatch(/^migrated 3 conversations, 4 messages/)
          expect(await contents(inner)).toEqual({
            a: ['outer a'],
            b: ['outer b'],
            c: ['inner c', 'inner c again'],
          })
          expect(await contents(outer)).toEqual({
            a: ['outer a'],
            b: ['outer b'],
            c: ['inner c', 'inner c again'],
            e: ['outer e'],
          })
          // Every key there is of exactly one of the two layouts: no key is both stores' key.
          const layout = (prefix: string) =>
            new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\{\\d+\\}:|format$|limit$)`)
          const [ofOuter, ofInner] = [layout(outer), layout(inner)]
          const keys = await client.keys(`${base}*`)
          expect(keys.length).toBeGreaterThan(0)
          for (const key of keys) expect(ofOuter.test(key) !== ofInner.test(key), key).toBe(true)
        } finally {
          await deleteKeys(client, base)
          client.disconnect()
        }
      },
      60_000,
    )
  }
})
