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
