import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMemoryError, type Memory, openMemory } from '../../../src/index.js'
import { redisBackend } from '../../../src/redis.js'
import { ensureBuilt, IN_CI, packageDir } from '../../helpers.js'
import { RedisServer, redisServerMissing } from './cluster-servers.js'

const missing = await redisServerMissing()

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`gave up waiting for ${what}`)
}

// Every way an error gets shown or logged: its text, its JSON, and each error of its cause chain
// with every property, hidden ones included.
function expectNowhere(error: unknown, secret: string): void {
  expect(inspect(error, { depth: 10 })).not.toContain(secret)
  expect(JSON.stringify(error)).not.toContain(secret)
  for (let e: unknown = error; e !== undefined; e = (e as { cause?: unknown }).cause) {
    expect(inspect(e, { depth: 10, showHidden: true })).not.toContain(secret)
    expect(JSON.stringify(e) ?? '').not.toContain(secret)
    expect(String((e as Error).stack)).not.toContain(secret)
  }
}

async function contents(memory: Memory, id: string): Promise<string[]> {
  return (await memory.history(id)).map((m) => m.content)
}

if (missing !== undefined) {
  if (IN_CI) {
    it('redis-server is installed (required when CI=true)', () => {
      throw new Error(missing)
    })
  } else {
    it.skip(`Redis fault tests skipped: ${missing}`, () => undefined)
  }
} else {
  let server: RedisServer

  beforeAll(async () => {
    // AOF with fsync on every write, so that a SIGKILL loses nothing Redis acknowledged.
    server = await RedisServer.start([
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      // A replica (see waitReplicas) gets its first sync at once instead of after 5 s.
      '--repl-diskless-sync-delay',
      '0',
    ])
  }, 30_000)

  afterAll(async () => {
    await server?.stop()
  }, 30_000)

  describe('a server restarted with fewer databases', () => {
    // ioredis selects the database again at each reconnect and, when the server refuses, only
    // emits 'error' and goes on with database 0.
    it('writes nothing to database 0 while the database is refused, and resumes once it is there again', async () => {
      const local = await RedisServer.start(['--databases', '16'])
      const db0 = new Redis(local.url, { lazyConnect: true, retryStrategy: () => 100 })
      const db9 = new Redis(`${local.url}/9`, { lazyConnect: true, retryStrategy: () => 100 })
      for (const client of [db0, db9]) client.on('error', () => undefined)
      try {
        const memory = await openMemory({
          backend: redisBackend({ url: `${local.url}/9`, keyPrefix: 'db:' }),
          saveEvery: 1,
          flushIntervalMs: 50,
          flushOnExit: false,
        })
        const errors: unknown[] = []
        memory.on('error', (error) => errors.push(error))
        await memory.add('a', { role: 'user', content: 'before' })
        await memory.flush()
        await local.kill()
        await local.restart(['--databases', '4'])
        await memory.add('a', { role: 'user', content: 'while refused' })
        await until(
          () => errors.some((e) => String((e as Error).message).includes('refused to select database 9')),
          'a write refused for the database',
        )
        const refused = errors.find((e) =>
          String((e as Error).message).includes('select database 9'),
        ) as Error
        expect(isMemoryError(refused, 'backend-unavailable')).toBe(true)
        expect(refused.message).toContain(
          `Redis at ${local.url}/9 refused to select database 9 after reconnecting: ERR DB index is out of range; nothing was read or written`,
        )
        await expect(memory.history('a')).rejects.toThrow(/refused to select database 9/)
        // The retries went nowhere: database 0 is still empty.
        await new Promise((r) => setTimeout(r, 300))
        expect(await db0.dbsize()).toBe(0)
        await local.kill()
        await local.restart(['--databases', '16'])
        await until(
          async () => (await memory.stats().catch(() => ({ pending: 1 }))).pending === 0,
          'the retry',
        )
        expect(await contents(memory, 'a')).toEqual(['while refused'])
        expect(await db0.dbsize()).toBe(0)
        expect(await db9.dbsize()).toBeGreaterThan(0)
        await memory.close()
      } finally {
        db0.disconnect()
        db9.disconnect()
        await local.stop()
      }
    }, 60_000)
  })

  describe('Redis goes away mid-run', () => {
    it('batched adds are kept up to maxPending, strict adds reject, and a restart gets everything once, in order', async () => {
      const batched = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'kill:' }),
        saveEvery: 5,
        flushIntervalMs: 100,
        maxPending: 40,
        flushOnExit: false,
      })
      const strict = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'kill:' }),
        durability: 'strict',
        flushOnExit: false,
      })
      const errors: unknown[] = []
      batched.on('error', (error) => errors.push(error))
      const accepted: Record<string, string[]> = { a: [], b: [] }
      let n = 0
      const add = async (memory: Memory) => {
        const id = n % 3 === 0 ? 'b' : 'a'
        const content = `m${n++}`
        await memory.add(id, { role: 'user', content })
        accepted[id]?.push(content)
      }
      for (let i = 0; i < 12; i++) await add(batched)
      // Across stores, order is the order of writes: write the batched ones first.
      await batched.flush()
      await add(strict)

      await server.kill()
      // Batched adds keep being accepted while writes fail...
      for (let i = 0; i < 40; i++) await add(batched)
      await until(() => errors.length > 0, 'an error event')
      expect(isMemoryError(errors[0], 'backend-unavailable')).toBe(true)
      expect((errors[0] as Error).message).toContain(server.url)
      expect((errors[0] as Error).message).toMatch(
        /cannot write \d+ messages? .*: not connected\b.*reconnecting/,
      )
      // ...up to maxPending, then the store pushes back.
      const full = await batched.add('a', { role: 'user', content: 'too many' }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isMemoryError(full, 'backpressure')).toBe(true)
      expect((full as Error).message).toMatch(/40 messages are waiting .* maxPending/)
      await expect(strict.add('a', { role: 'user', content: 'not stored' })).rejects.toSatisfy((e) =>
        isMemoryError(e, 'backend-unavailable'),
      )
      await expect(batched.flush()).rejects.toSatisfy(
        (e) => isMemoryError(e, 'backend-unavailable') && (e as Error).message.includes(server.url),
      )

      await server.restart()
      // The store retries on its own once the client has reconnected.
      await until(async () => {
        try {
          return (await batched.stats()).pending === 0
        } catch {
          return false
        }
      }, 'the pending messages to be written after the restart')
      expect(await contents(batched, 'a')).toEqual(accepted.a)
      // Each store has its own connection, which reconnects on its own schedule.
      await until(async () => {
        try {
          await strict.history('b')
          return true
        } catch {
          return false
        }
      }, 'the strict store to reconnect')
      expect(await contents(strict, 'b')).toEqual(accepted.b)
      expect((await batched.stats()).messages).toBe(53)
      await batched.close()
      await strict.close()
    }, 60_000)

    it('once Redis is back, pending messages are written at once, not after flushIntervalMs', async () => {
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'reconnect:' }),
        saveEvery: 1,
        // Far beyond the test's own timeout: only the reconnection can start the retry.
        flushIntervalMs: 600_000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      memory.on('error', (error) => errors.push(error))
      await memory.add('a', { role: 'user', content: 'before' })
      await memory.flush()
      await server.kill()
      for (let i = 0; i < 5; i++) await memory.add('a', { role: 'user', content: `during ${i}` })
      // The failed write leaves the store waiting for its timer to retry.
      await until(() => errors.length > 0, 'a failed write')
      await server.restart()
      const probe = new Redis(server.url)
      try {
        // Read from another client: the store's own history would show its pending messages too.
        const stored = async () => {
          const [key] = await probe.keys('reconnect:*:m:a')
          return key === undefined ? [] : await probe.lrange(key, 0, -1)
        }
        await until(async () => (await stored()).length === 6, 'the pending messages to reach Redis')
        expect((await stored()).map((item) => (JSON.parse(item) as { content: string }).content)).toEqual([
          'before',
          'during 0',
          'during 1',
          'during 2',
          'during 3',
          'during 4',
        ])
      } finally {
        probe.disconnect()
      }
      expect((await memory.stats()).pending).toBe(0)
      await memory.close()
    }, 60_000)

    it('a frozen server makes calls fail after commandTimeoutMs instead of hanging', async () => {
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'frozen:', commandTimeoutMs: 1000 }),
        durability: 'strict',
        flushOnExit: false,
      })
      memory.on('error', () => undefined)
      server.pause()
      try {
        await expect(memory.add('a', { role: 'user', content: 'x' })).rejects.toSatisfy(
          (e) => isMemoryError(e, 'backend-unavailable') && /timed out/.test((e as Error).message),
        )
        await expect(memory.history('a')).rejects.toSatisfy((e) => isMemoryError(e, 'backend-unavailable'))
      } finally {
        server.resume()
      }
      await memory.add('a', { role: 'user', content: 'y' })
      // The first add timed out on the client but reached Redis: outcome unknown, as documented.
      expect((await contents(memory, 'a')).at(-1)).toBe('y')
      await memory.close()
    }, 30_000)
  })

  describe('upserts and removes', () => {
    it('a connection lost mid-write keeps them pending; after the restart each is applied once, in order', async () => {
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'ops-kill:' }),
        saveEvery: 1000,
        flushIntervalMs: 100,
        flushOnExit: false,
      })
      // The outage is reported by the awaited flush() calls below; whether a background write also
      // fails (an 'error' event) depends on the timer, so it is not counted.
      memory.on('error', () => {})
      for (const id of ['q1', 'q2', 'q3']) await memory.add('a', { role: 'user', content: id, id })
      await memory.add('b', { role: 'user', content: 'b1', id: 'b1' })
      await memory.flush()
      await memory.upsert('a', { id: 'r1', role: 'assistant', content: 'streamed' })
      await memory.upsert('a', { id: 'r1', role: 'assistant', content: 'streamed reply' })
      expect(await memory.remove('a', 'q2')).toBe(true)
      await memory.add('a', { role: 'user', content: 'q4', id: 'q4' })
      await memory.upsert('a', { id: 'q1', role: 'user', content: 'q1 edited' })
      expect(await memory.remove('b', 'b1')).toBe(true)
      await memory.add('b', { role: 'user', content: 'b2', id: 'b2' })
      const expected = {
        a: [
          ['q1', 'q1 edited'],
          ['q3', 'q3'],
          ['r1', 'streamed reply'],
          ['q4', 'q4'],
        ],
        b: [['b2', 'b2']],
      }
      const seen = async (id: 'a' | 'b') => (await memory.history(id)).map((m) => [m.id, m.content])
      // The write leaves, the server never answers it and dies: its outcome is unknown.
      server.pause()
      let restarted = false
      try {
        const flushing = memory.flush().then(
          () => undefined,
          (e: unknown) => e,
        )
        await new Promise((r) => setTimeout(r, 200))
        await server.kill()
        expect(isMemoryError(await flushing, 'backend-unavailable')).toBe(true)
        // Every change is kept: the next attempt carries all 7 again.
        await expect(memory.flush()).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'backend-unavailable') && /cannot write 7 changes/.test((e as Error).message),
        )
      } finally {
        await server.restart()
        restarted = true
      }
      expect(restarted).toBe(true)
      await until(async () => {
        try {
          return (await memory.stats()).pending === 0
        } catch {
          return false
        }
      }, 'the pending changes to be written after the restart')
      expect(await seen('a')).toEqual(expected.a)
      expect(await seen('b')).toEqual(expected.b)
      await memory.close()
      // Read back by another store: what Redis holds.
      const again = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'ops-kill:' }),
        flushOnExit: false,
      })
      expect((await again.history('a')).map((m) => [m.id, m.content])).toEqual(expected.a)
      expect((await again.history('b')).map((m) => [m.id, m.content])).toEqual(expected.b)
      expect((await again.stats()).messages).toBe(5)
      await again.close()
    }, 60_000)

    it('a key of another type drops only its conversation’s changes; the others are written', async () => {
      const admin = new Redis(server.url)
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'ops-foreign:' }),
        saveEvery: 1000,
        flushIntervalMs: 600_000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      memory.on('error', (error) => errors.push(error))
      try {
        for (const id of ['bad', 'good']) await memory.add(id, { role: 'user', content: 'q', id: 'q' })
        await memory.flush()
        const [key] = await admin.keys('ops-foreign:*:m:bad')
        await admin.del(key as string)
        await admin.set(key as string, 'a string')
        await memory.upsert('bad', { id: 'q', role: 'user', content: 'dropped' })
        await memory.upsert('good', { id: 'q', role: 'user', content: 'edited' })
        await memory.upsert('good', { id: 'r', role: 'assistant', content: 'reply' })
        await expect(memory.flush()).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'corrupt') && (e as Error).message.includes('cannot write conversation "bad"'),
        )
        expect(errors).toHaveLength(1)
        expect(
          isMemoryError(errors[0], 'corrupt') &&
            (errors[0] as Error).message.includes(`cannot write conversation "bad"`) &&
            (errors[0] as Error).message.includes(`the key "${key}" holds a string, not a list`),
        ).toBe(true)
        // Nothing is left to write: the failed conversation's changes were dropped, not kept.
        await memory.flush()
        expect(errors).toHaveLength(1)
        expect((await memory.history('good')).map((m) => m.content)).toEqual(['edited', 'reply'])
        expect(await admin.get(key as string)).toBe('a string')
        await admin.del(key as string)
        await memory.upsert('bad', { id: 'q', role: 'user', content: 'works again' })
        await memory.flush()
        expect((await memory.history('bad')).map((m) => m.content)).toEqual(['works again'])
      } finally {
        await memory.close()
        admin.disconnect()
      }
    }, 30_000)

    it('a full Redis (OOM) refuses the whole write: upserts and adds stay pending, then are written once', async () => {
      const admin = new Redis(server.url)
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'ops-oom:' }),
        saveEvery: 1000,
        flushIntervalMs: 600_000,
        flushOnExit: false,
      })
      memory.on('error', () => undefined)
      try {
        await memory.add('a', { role: 'user', content: 'q', id: 'q' })
        await memory.add('a', { role: 'user', content: 'x', id: 'x' })
        await memory.flush()
        const probe = await openMemory({
          backend: redisBackend({ url: server.url, keyPrefix: 'ops-oom:' }),
          flushOnExit: false,
        })
        await admin.config('SET', 'maxmemory', '1')
        await memory.add('b', { role: 'user', content: 'b1' })
        await memory.upsert('a', { id: 'q', role: 'user', content: 'edited' })
        expect(await memory.remove('a', 'x')).toBe(true)
        await expect(memory.flush()).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'io') &&
            /cannot write 3 changes .*OOM.*Redis is full \(maxmemory\)/.test((e as Error).message),
        )
        expect((await probe.history('a')).map((m) => m.content)).toEqual(['q', 'x'])
        expect(await probe.history('b')).toEqual([])
        await admin.config('SET', 'maxmemory', '0')
        await memory.flush()
        expect((await probe.history('a')).map((m) => m.content)).toEqual(['edited'])
        expect((await probe.history('b')).map((m) => m.content)).toEqual(['b1'])
        // A write of upserts alone: their first write is refused, so nothing of it is applied.
        const strict = await openMemory({
          backend: redisBackend({ url: server.url, keyPrefix: 'ops-oom:' }),
          durability: 'strict',
          flushOnExit: false,
        })
        await admin.config('SET', 'maxmemory', '1')
        const [first, second] = await Promise.allSettled([
          strict.upsert('a', { id: 'q', role: 'user', content: 'refused' }),
          strict.upsert('b', { id: 'new', role: 'user', content: 'refused too' }),
        ])
        for (const result of [first, second]) {
          expect(result.status === 'rejected' && isMemoryError(result.reason, 'io')).toBe(true)
        }
        await admin.config('SET', 'maxmemory', '0')
        expect((await probe.history('a')).map((m) => m.content)).toEqual(['edited'])
        expect((await probe.history('b')).map((m) => m.content)).toEqual(['b1'])
        await strict.close()
        await probe.close()
      } finally {
        await admin.config('SET', 'maxmemory', '0')
        await memory.close()
        admin.disconnect()
      }
    }, 30_000)
  })

  describe('waitReplicas', () => {
    it('a strict add resolves once a replica has the write, and rejects when none acknowledges it', async () => {
      const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(server.port)])
      try {
        const probe = new Redis(server.url)
        await until(async () => (await probe.info('replication')).includes('state=online'), 'the replica')
        // Online is not yet acknowledging: wait until the replica answers WAIT once.
        await probe.set('wait:probe', '1')
        expect(await probe.wait(1, 20_000)).toBe(1)
        probe.disconnect()
        const memory = await openMemory({
          backend: redisBackend({
            url: server.url,
            keyPrefix: 'wait:',
            waitReplicas: 1,
            waitTimeoutMs: 1000,
          }),
          durability: 'strict',
          flushOnExit: false,
        })
        memory.on('error', () => undefined)
        await memory.add('a', { role: 'user', content: 'replicated' })
        await expect(
          openMemory({ backend: redisBackend({ url: replica.url, keyPrefix: 'wait:' }), flushOnExit: false }),
        ).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'backend-unavailable') &&
            /refused to open the store: READONLY .*connect to the primary/.test((e as Error).message),
        )
        const onReplica = new Redis(replica.url)
        const [key] = await onReplica.keys('wait:*:m:a')
        expect(await onReplica.lrange(key ?? 'missing', 0, -1)).toEqual([
          expect.stringContaining('"replicated"'),
        ])
        onReplica.disconnect()
        await replica.kill()
        await expect(memory.add('a', { role: 'user', content: 'unconfirmed' })).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'backend-unavailable') &&
            /only 0 of 1 replicas acknowledged the write within 1000 ms/.test((e as Error).message),
        )
        await memory.close()
      } finally {
        await replica.stop()
      }
    }, 30_000)
  })

  describe('errors and warnings say what to do', () => {
    it('warns about an evicting Redis, and names a full Redis and a wrong password', async () => {
      const admin = new Redis(server.url)
      try {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru')
        const warnings: string[] = []
        const memory = await openMemory({
          backend: redisBackend({ url: server.url, keyPrefix: 'advice:' }),
          durability: 'strict',
          flushOnExit: false,
          onWarning: (warning) => warnings.push(warning),
        })
        expect(warnings).toEqual([
          expect.stringMatching(
            /may evict any key .*maxmemory-policy allkeys-lru.*Set maxmemory-policy to noeviction/,
          ),
        ])
        await admin.config('SET', 'maxmemory-policy', 'noeviction')
        await admin.config('SET', 'maxmemory', '1')
        await expect(memory.add('a', { role: 'user', content: 'x' })).rejects.toSatisfy(
          (e) =>
            isMemoryError(e, 'io') &&
            /cannot write 1 message .*OOM.*Redis is full \(maxmemory\): raise maxmemory/.test(
              (e as Error).message,
            ),
        )
        await admin.config('SET', 'maxmemory', '0')
        await memory.add('a', { role: 'user', content: 'y' })
        expect(await contents(memory, 'a')).toEqual(['y'])
        await memory.close()

        await admin.config('SET', 'requirepass', 's3cret')
        const refused = await openMemory({
          backend: redisBackend({ url: server.url, keyPrefix: 'advice:', connectTimeoutMs: 3000 }),
          flushOnExit: false,
        }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isMemoryError(refused, 'backend-unavailable')).toBe(true)
        expect((refused as Error).message).toMatch(/NOAUTH.*Check the user name and password/)
        const allowed = await openMemory({
          backend: redisBackend({ url: `redis://:s3cret@127.0.0.1:${server.port}`, keyPrefix: 'advice:' }),
          flushOnExit: false,
        })
        expect(await contents(allowed, 'a')).toEqual(['y'])
        await allowed.close()
      } finally {
        // This connection authenticated before the password was set, so it may still reset it.
        await admin.config('SET', 'requirepass', '')
        await admin.config('SET', 'maxmemory', '0')
        await admin.config('SET', 'maxmemory-policy', 'noeviction')
        admin.disconnect()
      }
    }, 30_000)
  })

  describe('credentials and messages stay out of errors', () => {
    it('a wrong password appears nowhere in the error, and a failed write carries no message', async () => {
      const secured = await RedisServer.start(['--requirepass', 'right-pass-4821'])
      try {
        for (const url of [
          `redis://:wrong-pass-7391@127.0.0.1:${secured.port}`,
          `redis://default:wrong-pass-7391@127.0.0.1:${secured.port}/0`,
          // ioredis reads query parameters as options, the password included.
          `redis://127.0.0.1:${secured.port}/?password=wrong-pass-7391`,
        ]) {
          const refused = await openMemory({
            backend: redisBackend({ url, connectTimeoutMs: 3000 }),
            flushOnExit: false,
          }).then(
            () => undefined,
            (e: unknown) => e,
          )
          expect(isMemoryError(refused, 'backend-unavailable')).toBe(true)
          expect((refused as Error).message).toMatch(
            /redis:\/\/((default)?:\*\*\*@)?127\.0\.0\.1.*WRONGPASS.*Check the user name and password/,
          )
          expect((refused as Error).cause).toBeInstanceOf(Error)
          expectNowhere(refused, 'wrong-pass-7391')
        }

        const url = `redis://:right-pass-4821@127.0.0.1:${secured.port}`
        const memory = await openMemory({
          backend: redisBackend({ url, keyPrefix: 'secret:' }),
          saveEvery: 1,
          flushIntervalMs: 600_000,
          flushOnExit: false,
        })
        const errors: unknown[] = []
        memory.on('error', (error) => errors.push(error))
        const admin = new Redis(url)
        try {
          // A write the server refuses: ioredis attaches the command, with every message as argument.
          await admin.config('SET', 'maxmemory', '1')
          await memory.add('a', { role: 'user', content: 'private words 5512' })
          await until(() => errors.length > 0, 'the failed write')
          await admin.config('SET', 'maxmemory', '0')
        } finally {
          admin.disconnect()
        }
        expect(isMemoryError(errors[0], 'io')).toBe(true)
        expect((errors[0] as Error).message).toMatch(/OOM/)
        expectNowhere(errors[0], 'private words 5512')
        expectNowhere(errors[0], 'right-pass-4821')
        await memory.flush()
        expect(await contents(memory, 'a')).toEqual(['private words 5512'])
        await memory.close()
      } finally {
        await secured.stop()
      }
    }, 30_000)
  })

  describe('connection name', () => {
    it('names the connection it creates, so CLIENT LIST shows whose it is', async () => {
      const admin = new Redis(server.url)
      const named = async () =>
        ((await admin.client('LIST')) as string)
          .split('\n')
          .filter((line) => / name=taurobot-memory /.test(line))
      try {
        const memory = await openMemory({
          backend: redisBackend({ url: server.url, keyPrefix: 'named:' }),
          flushOnExit: false,
        })
        expect(await named()).toHaveLength(1)
        await memory.close()
        await until(async () => (await named()).length === 0, 'the connection to close')
      } finally {
        admin.disconnect()
      }
    })
  })

  describe('odd input, as with the file backend', () => {
    it('keeps huge messages, long and unicode ids, and refuses messages over maxMessageBytes', async () => {
      const memory = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'odd:' }),
        saveEvery: 3,
        flushOnExit: false,
      })
      const big = 'ß'.repeat(500_000)
      const ids = ['__proto__', 'constructor', '{braces}', 'ünïcødé 🚀', 'x'.repeat(10_000), '-1001234567890']
      for (const id of ids) await memory.add(id, { role: 'user', content: big, meta: { id } })
      await memory.close()
      const again = await openMemory({
        backend: redisBackend({ url: server.url, keyPrefix: 'odd:' }),
        flushOnExit: false,
      })
      for (const id of ids) {
        const [stored] = await again.history(id)
        expect(stored?.content).toBe(big)
        expect(stored?.meta).toEqual({ id })
      }
      const listed = []
      for await (const summary of again.conversations()) listed.push(summary.id)
      expect(listed.sort()).toEqual([...ids].sort())
      expect(({} as Record<string, unknown>).role).toBeUndefined()
      await expect(again.add('a', { role: 'user', content: 'x'.repeat(1_048_577) })).rejects.toThrow(
        RangeError,
      )
      await again.close()
    }, 30_000)
  })

  describe('process lifetime', () => {
    const fixture = join(packageDir, 'test', 'fixtures', 'redis-exit.mjs')

    function runFixture(ending: string, onLine?: (line: string) => void) {
      ensureBuilt('redis.js')
      const child = spawn(process.execPath, [fixture, server.url, 'exit:', ending], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      const lines: string[] = []
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line)
        onLine?.(line)
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      return { child, lines, exited }
    }

    it('nothing keeps the process alive after close()', async () => {
      const { lines, exited } = runFixture('close')
      expect(await exited).toBe(0)
      expect(lines).toContain('done')
    }, 30_000)

    it('nothing keeps the process alive after destroy(), even with the server gone', async () => {
      const run = runFixture('destroy-after-server-death', (line) => {
        if (line === 'kill-now') void server.kill().then(() => run.child.stdin.write('go\n'))
      })
      expect(await run.exited).toBe(0)
      expect(run.lines).toContain('done')
      await server.restart()
    }, 30_000)
  })
}
