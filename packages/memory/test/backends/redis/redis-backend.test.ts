import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cp, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inspect, promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { BackendContext, Message } from '../../../src/index.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { redisBackend } from '../../../src/redis.js'
import { describeBackendContract } from '../../contract.js'
import { ensureBuilt, IN_CI, packageDir, tempDir } from '../../helpers.js'
import { describeReplyContract } from '../../reply-contract.js'
import { deleteKeys, freePort, REDIS_URL, redisUnavailable } from './cluster-servers.js'
import { blackHole, silentServer } from './silent-servers.js'

const run = promisify(execFile)

const unavailable = await redisUnavailable()
const runPrefix = `taurobot-test:${randomUUID()}:`
let targets = 0

function context(maxMessages = 1000): BackendContext {
  return { maxMessages, warn: () => undefined, recovered: () => undefined }
}

function message(content: string): Message {
  return { role: 'user', content, timestamp: new Date().toISOString() }
}

describe('redisBackend options', () => {
  it('rejects bad options with a TypeError or RangeError naming the option and value', () => {
    expect(() => redisBackend({ nope: 1 } as never)).toThrow(/unknown option "nope"/)
    expect(() => redisBackend({ url: 'http://x' })).toThrow(/url must be a redis:\/\/ .* got "http:\/\/x"/)
    expect(() => redisBackend({ url: 5 } as never)).toThrow(TypeError)
    expect(() => redisBackend({ url: 'http://bot:s3cret@example.com' })).toThrow(
      'url must be a redis:// or rediss:// URL, got "http://bot:***@example.com"',
    )
    expect(() => redisBackend({ client: {} as never })).toThrow(/client must be an ioredis/)
    expect(() => redisBackend({ url: REDIS_URL, client: new Redis({ lazyConnect: true }) })).toThrow(
      /url and client cannot be used together/,
    )
    expect(() => redisBackend({ buckets: 0 })).toThrow(/buckets must be an integer from 1 to 16384, got 0/)
    expect(() => redisBackend({ buckets: 1.5 })).toThrow(RangeError)
    expect(() => redisBackend({ keyPrefix: 7 } as never)).toThrow(/keyPrefix must be a string, got 7/)
    expect(() => redisBackend({ keyPrefix: 'a{}b:' })).toThrow(/keyPrefix must not start a hash tag/)
    expect(() => redisBackend({ keyPrefix: '' })).toThrow(RangeError)
    expect(() => redisBackend({ keyPrefix: '' })).toThrow(
      /^keyPrefix must not be empty: the store's keys \(format, limit, .*root of the keyspace, where format and limit could clash with other applications' keys/,
    )
    // Any other prefix is the caller's choice, however short.
    for (const keyPrefix of [':', ' ', 'a', '{bot}']) expect(() => redisBackend({ keyPrefix })).not.toThrow()
    expect(() => redisBackend({ waitReplicas: -1 })).toThrow(/waitReplicas must be an integer from 0/)
    expect(() => redisBackend({ commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs must be an integer/)
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
    expect(() => redisBackend({ client: cluster, waitReplicas: 1 })).toThrow(/standalone client only/)
  })

  it('without ioredis installed, opening says how to install it', async () => {
    ensureBuilt('redis.js')
    const dir = await tempDir()
    try {
      // The built package alone, where no node_modules/ioredis can be found.
      await cp(join(packageDir, 'dist'), join(dir.dir, 'dist'), { recursive: true })
      await writeFile(join(dir.dir, 'package.json'), JSON.stringify({ type: 'module' }))
      const script = [
        "const { redisBackend } = await import('./dist/redis.js')",
        'try { await redisBackend().open({ maxMessages: 1, warn() {}, recovered() {} }) }',
        'catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })) }',
      ].join('\n')
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir.dir })
      const error = JSON.parse(stdout) as { name: string; code: string; message: string }
      expect(error.name).toBe('MemoryError')
      expect(error.code).toBe('backend-unavailable')
      expect(error.message).toContain('npm install ioredis')
    } finally {
      await dir.cleanup()
    }
  }, 30_000)

  it('fails to open with backend-unavailable naming the URL, without its password', async () => {
    const port = await freePort()
    const backend = redisBackend({ url: `redis://bot:s3cret@127.0.0.1:${port}/0`, connectTimeoutMs: 2000 })
    const error = await backend.open(context()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isMemoryError(error, 'backend-unavailable')).toBe(true)
    expect((error as Error).message).toContain(`redis://bot:***@127.0.0.1:${port}/0`)
    expect((error as Error).message).toMatch(/ECONNREFUSED/)
    expect((error as { details: unknown }).details).toEqual({ url: `redis://bot:***@127.0.0.1:${port}/0` })
    for (const shown of [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)]) {
      expect(shown).not.toContain('s3cret')
    }
    await expect(backend.read('a')).rejects.toSatisfy((e) => isMemoryError(e, 'closed'))
  })

  it.each([
    ['a server that accepts the connection and never answers', silentServer],
    ['a port whose connections are never established', blackHole],
  ])(
    'open against %s: backend-unavailable naming host:port and connectTimeoutMs',
    async (_, make) => {
      const server = await make()
      try {
        const url = `redis://127.0.0.1:${server.port}`
        const error = await openMemory({
          backend: redisBackend({ url, connectTimeoutMs: 500 }),
          flushOnExit: false,
        }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isMemoryError(error, 'backend-unavailable')).toBe(true)
        expect((error as Error).message).toBe(
          `[@taurobot/memory] cannot reach Redis at ${url}: the connection to 127.0.0.1:${server.port} did not succeed within connectTimeoutMs (500 ms). ` +
            'Check that the host and port are right, that the server runs and listens there, and that no firewall drops the connection; on a slow network, raise connectTimeoutMs.',
        )
        expect((error as { details: unknown }).details).toEqual({ url })
      } finally {
        await server.close()
      }
    },
    20_000,
  )
})

if (unavailable !== undefined) {
  if (IN_CI) {
    it('Redis answers at REDIS_URL (required when CI=true)', () => {
      throw new Error(unavailable)
    })
  } else {
    it.skip(`Redis backend tests skipped: ${unavailable}`, () => undefined)
  }
} else {
  const admin = new Redis(REDIS_URL)
  afterAll(async () => {
    await deleteKeys(admin, runPrefix)
    admin.disconnect()
  })

  describeBackendContract(
    'redis',
    () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      return {
        make: () => redisBackend({ url: REDIS_URL, keyPrefix }),
        cleanup: () => deleteKeys(admin, keyPrefix),
      }
    },
    { persistent: true },
  )

  describeReplyContract(
    'redis (upsert fallback)',
    async () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      return {
        make: () => redisBackend({ url: REDIS_URL, keyPrefix }),
        cleanup: () => deleteKeys(admin, keyPrefix),
      }
    },
    { persistent: true },
  )

  describe('redis backend', () => {
    const prefix = () => `${runPrefix}${targets++}:`

    it.skipIf(!REDIS_URL.startsWith('redis:'))(
      'rediss:// against the plain server: the error says it may not speak TLS and to try redis://',
      async () => {
        const url = REDIS_URL.replace(/^redis:/, 'rediss:')
        const error = await openMemory({
          backend: redisBackend({ url, keyPrefix: prefix(), connectTimeoutMs: 1000 }),
          flushOnExit: false,
        }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isMemoryError(error, 'backend-unavailable')).toBe(true)
        expect((error as Error).message).toMatch(
          /^\[@taurobot\/memory\] cannot reach Redis at rediss:\/\/.*The URL asks for TLS \(rediss:\/\/\) and the server may not speak TLS: if it is a plain Redis server, use redis:\/\/ instead\.$/,
        )
      },
      20_000,
    )

    it('writes a whole flush with one command and keeps O(1) keys per conversation', async () => {
      const client = new Redis(REDIS_URL)
      const sent: string[] = []
      const send = client.sendCommand.bind(client)
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name)
        return (send as (...args: unknown[]) => unknown)(command, ...rest)
      }) as typeof client.sendCommand
      const keyPrefix = prefix()
      const memory = await openMemory({
        backend: redisBackend({ client, keyPrefix }),
        saveEvery: 1000,
        maxMessages: 4,
        flushOnExit: false,
      })
      for (let i = 0; i < 30; i++) await memory.add(`c${i % 10}`, { role: 'user', content: `m${i}` })
      sent.length = 0
      await memory.flush()
      // EVAL follows only if the server had forgotten the script.
      expect(['evalsha', 'evalsha,eval']).toContain(sent.join().toLowerCase())
      expect((await memory.history('c3')).map((m) => m.content)).toEqual(['m3', 'm13', 'm23'])
      for (let i = 0; i < 20; i++) await memory.add('c3', { role: 'user', content: `n${i}` })
      await memory.flush()
      expect((await memory.history('c3')).map((m) => m.content)).toEqual(['n16', 'n17', 'n18', 'n19'])
      expect(await admin.llen(`${keyPrefix}{${findBucket(keyPrefix, 'c3')}}:m:c3`)).toBe(4)
      await memory.close()
      // The caller's client is the caller's to close.
      expect(client.status).toBe('ready')
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, found] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000)
        cursor = next
        keys.push(...found)
      } while (cursor !== '0')
      const lists = keys.filter((k) => k.includes(':m:'))
      expect(lists.length).toBe(10)
      // Besides the lists: the format key and, per bucket used, an index, a hash and a writer key.
      expect(keys.length - lists.length).toBeLessThanOrEqual(1 + 3 * 16)
      client.disconnect()
    })

    it('splits a flush above 64 MiB into calls that each keep whole buckets', async () => {
      const client = new Redis(REDIS_URL)
      const sent: string[] = []
      const send = client.sendCommand.bind(client)
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name.toLowerCase())
        return (send as (...args: unknown[]) => unknown)(command, ...rest)
      }) as typeof client.sendCommand
      const keyPrefix = prefix()
      const memory = await openMemory({
        backend: redisBackend({ client, keyPrefix }),
        saveEvery: 1000,
        flushOnExit: false,
      })
      const big = 'x'.repeat(1_000_000)
      for (let i = 0; i < 70; i++) await memory.add(`big${i % 35}`, { role: 'user', content: `${i}:${big}` })
      sent.length = 0
      await memory.flush()
      expect(sent.filter((name) => name === 'evalsha').length).toBeGreaterThanOrEqual(2)
      const stats = await memory.stats()
      expect([stats.conversations, stats.messages]).toEqual([35, 70])
      expect((await memory.history('big7')).map((m) => m.content.slice(0, 3))).toEqual(['7:x', '42:'])
      await memory.close()
      await deleteKeys(admin, keyPrefix)
      client.disconnect()
    }, 60_000)

    it('stores a message in the same number of bytes whatever the length of the history', async () => {
      const keyPrefix = prefix()
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        saveEvery: 100,
        flushOnExit: false,
      })
      const content = 'Ciao! Come stai oggi? Tutto bene, grazie. '.repeat(4)
      const usage = async (id: string) =>
        Number(
          await admin.memory('USAGE', `${keyPrefix}{${findBucket(keyPrefix, id)}}:m:${id}`, 'SAMPLES', '0'),
        )
      const perMessage: number[] = []
      for (const length of [10, 100, 1000]) {
        for (let i = 0; i < length; i++) await memory.add(`h${length}`, { role: 'user', content })
        await memory.flush()
        perMessage.push((await usage(`h${length}`)) / length)
      }
      const json = Buffer.byteLength(JSON.stringify((await memory.history('h10'))[0]))
      for (const bytes of perMessage) {
        expect(bytes).toBeGreaterThan(json * 0.9)
        expect(bytes).toBeLessThan(json * 1.5)
      }
      await memory.close()
    })

    it('a later store adopts the bucket count the data was written with, and refuses another', async () => {
      const keyPrefix = prefix()
      const first = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix, buckets: 3 }),
        flushOnExit: false,
      })
      await first.add('x', { role: 'user', content: 'hello' })
      await first.close()
      const again = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        flushOnExit: false,
      })
      expect((await again.history('x')).map((m) => m.content)).toEqual(['hello'])
      await again.close()
      await expect(
        openMemory({ backend: redisBackend({ url: REDIS_URL, keyPrefix, buckets: 5 }), flushOnExit: false }),
      ).rejects.toThrow(/buckets must be 3, .* got 5/)
      await admin.set(`${keyPrefix}format`, 'not a layout')
      await expect(
        openMemory({ backend: redisBackend({ url: REDIS_URL, keyPrefix }), flushOnExit: false }),
      ).rejects.toSatisfy((e) => isMemoryError(e, 'corrupt') && /format/.test((e as Error).message))
    })

    it('a write whose reply was lost is applied exactly once when the store retries it', async () => {
      const keyPrefix = prefix()
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix, commandTimeoutMs: 500 }),
        saveEvery: 1000,
        flushIntervalMs: 60_000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      memory.on('error', (e) => errors.push(e))
      // A first write loads the script, so the held write below runs it rather than failing NOSCRIPT.
      await memory.add('warm-up', { role: 'user', content: 'w' })
      await memory.flush()
      for (let i = 0; i < 6; i++) await memory.add(`u${i % 2}`, { role: 'user', content: `m${i}` })
      // The server holds the write past the client's timeout, then applies it: the reply is lost.
      await admin.client('PAUSE', 1500, 'WRITE')
      const failure = await memory.flush().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isMemoryError(failure, 'backend-unavailable')).toBe(true)
      expect((failure as Error).message).toMatch(/cannot write 6 messages .*timed out/)
      await new Promise((r) => setTimeout(r, 1600))
      // Redis did apply it: only the reply was lost.
      expect(await admin.llen(`${keyPrefix}{${findBucket(keyPrefix, 'u0')}}:m:u0`)).toBe(3)
      expect((await memory.stats()).pending).toBe(6)
      await memory.add('u0', { role: 'user', content: 'm6' })
      await memory.flush()
      expect((await memory.history('u0')).map((m) => m.content)).toEqual(['m0', 'm2', 'm4', 'm6'])
      expect((await memory.history('u1')).map((m) => m.content)).toEqual(['m1', 'm3', 'm5'])
      await memory.close()
    })

    it('reloads its scripts after the server forgot them (SCRIPT FLUSH)', async () => {
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix() }),
        durability: 'strict',
        flushOnExit: false,
      })
      await memory.add('a', { role: 'user', content: '1' })
      await admin.script('FLUSH')
      await memory.add('a', { role: 'user', content: '2' })
      expect(await memory.clear('a')).toBe(true)
      expect(await memory.history('a')).toEqual([])
      await memory.close()
    })

    it('stats() still answers while a pending conversation sits on a key of another type', async () => {
      const keyPrefix = prefix()
      const listKey = (id: string) => `${keyPrefix}{${findBucket(keyPrefix, id)}}:m:${id}`
      await admin.set(listKey('y'), 'a string')
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        saveEvery: 1000,
        flushIntervalMs: 60_000,
        flushOnExit: false,
      })
      await memory.add('y', { role: 'user', content: 'pending' })
      await memory.add('x', { role: 'user', content: 'pending too' })
      expect(await memory.stats()).toMatchObject({ conversations: 1, messages: 2, pending: 2 })
      await memory.destroy()
    })

    it('a key of another type fails only the conversations it holds; the rest of the batch is written', async () => {
      const keyPrefix = prefix()
      const backend = redisBackend({ url: REDIS_URL, keyPrefix })
      await backend.open(context())
      const listKey = (id: string) => `${keyPrefix}{${findBucket(keyPrefix, id)}}:m:${id}`
      await backend.append([{ id: 'x1', messages: [message('kept')] }])
      await admin.set(listKey('y'), 'a string')
      const y = { id: 'y', messages: [message('z')] }
      const result = await backend.append([
        { id: 'x1', messages: [message('a'), message('b')] },
        { id: 'x2', messages: [message('c')] },
        y,
      ])
      expect([...(result.failed?.keys() ?? [])]).toEqual(['y'])
      const error = result.failed?.get('y')
      expect(isMemoryError(error, 'corrupt')).toBe(true)
      expect(error?.message).toContain(
        `cannot write conversation "y" at Redis ${REDIS_URL}: the key "${listKey('y')}" holds a string, not a list, so its 1 message was not written (the other conversations were)`,
      )
      expect(error?.details).toMatchObject({ id: 'y', key: listKey('y'), type: 'string', messages: 1 })
      expect((await backend.read('x1')).map((m) => m.content)).toEqual(['kept', 'a', 'b'])
      expect((await backend.read('x2')).map((m) => m.content)).toEqual(['c'])
      await expect(backend.read('y')).rejects.toSatisfy(
        (e) =>
          isMemoryError(e, 'corrupt') &&
          (e as Error).message.includes(`the key "${listKey('y')}" holds a string, not a list of messages`) &&
          /use another keyPrefix or delete that key/.test((e as Error).message),
      )
      expect(await admin.get(listKey('y'))).toBe('a string')

      // A key of a bucket (here its index) fails every conversation of that bucket only.
      const other = ['w0', 'w1', 'w2', 'w3', 'w4'].find(
        (id) => findBucket(keyPrefix, id) !== findBucket(keyPrefix, 'w'),
      )
      const index = `${keyPrefix}{${findBucket(keyPrefix, 'w')}}:i`
      await admin.del(index)
      await admin.sadd(index, 'foreign')
      const bucketResult = await backend.append([
        { id: 'w', messages: [message('w')] },
        { id: other ?? 'w0', messages: [message('o')] },
      ])
      expect([...(bucketResult.failed?.keys() ?? [])]).toEqual(['w'])
      expect(bucketResult.failed?.get('w')?.message).toContain(
        `the key "${index}" holds a set, not a sorted set`,
      )
      expect(await backend.read('w')).toEqual([])
      expect((await backend.read(other ?? 'w0')).map((m) => m.content)).toEqual(['o'])

      // Once the key is gone, the same messages are written: the failed attempt did not count them.
      await admin.del(listKey('y'), index)
      expect((await backend.append([y])).failed).toBeUndefined()
      expect((await backend.read('y')).map((m) => m.content)).toEqual(['z'])
      await backend.close()
    })

    it('a store writes every other conversation past a foreign key and fails only that one', async () => {
      const keyPrefix = prefix()
      await admin.set(`${keyPrefix}{${findBucket(keyPrefix, 'bad')}}:m:bad`, 'a string')
      const isForeign = (e: unknown) =>
        isMemoryError(e, 'corrupt') &&
        (e as Error).message.includes(`cannot write conversation "bad"`) &&
        (e as Error).message.includes(`${keyPrefix}{${findBucket(keyPrefix, 'bad')}}:m:bad`)

      const strict = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        durability: 'strict',
        flushOnExit: false,
      })
      // Both adds share one write (group commit): the unrelated one is written all the same.
      const [bad, good] = await Promise.allSettled([
        strict.add('bad', { role: 'user', content: 'lost' }),
        strict.add('good', { role: 'user', content: 'strict' }),
      ])
      expect(bad.status === 'rejected' && isForeign(bad.reason)).toBe(true)
      expect(good.status).toBe('fulfilled')
      await strict.close()

      const batched = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        saveEvery: 2,
        maxPending: 4,
        flushIntervalMs: 600_000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      batched.on('error', (error) => errors.push(error))
      for (let i = 0; i < 5; i++) {
        await batched.add('bad', { role: 'user', content: `dropped ${i}` })
        await batched.add('good', { role: 'user', content: `batched ${i}` })
        // The dropped add is reported to flush() too: it is not on disk.
        await expect(batched.flush()).rejects.toSatisfy(isForeign)
      }
      expect(errors).toHaveLength(5)
      expect(errors.every(isForeign)).toBe(true)
      expect((await batched.stats()).pending).toBe(0)
      expect((await batched.history('good')).map((m) => m.content)).toEqual([
        'strict',
        ...[0, 1, 2, 3, 4].map((i) => `batched ${i}`),
      ])
      await expect(batched.history('bad')).rejects.toSatisfy((e) => isMemoryError(e, 'corrupt'))
      await batched.close()
    })

    it('reports list items that are not messages as corrupt, naming the key and the index', async () => {
      const keyPrefix = prefix()
      const backend = redisBackend({ url: REDIS_URL, keyPrefix })
      await backend.open(context())
      const key = (id: string) => `${keyPrefix}{${findBucket(keyPrefix, id)}}:m:${id}`
      const good = JSON.stringify(message('fine'))
      const cases: Array<[string, string, RegExp]> = [
        ['json', 'not json', /is not JSON/],
        ['five', '5', /is not a message as add\(\) stores it \(it is 5\)/],
        ['null', 'null', /not a message as add\(\) stores it \(it is null\)/],
        ['text', '"hello"', /not a message as add\(\) stores it \(it is "hello"\)/],
        ['array', '[]', /not a message as add\(\) stores it \(it is an array\)/],
        [
          'nocontent',
          '{"role":"user","timestamp":"2026-01-01T00:00:00.000Z"}',
          /not a message as add\(\) stores it \(its content is undefined\)/,
        ],
        ['norole', '{"content":"x","timestamp":"2026-01-01T00:00:00.000Z"}', /\(its role is undefined\)/],
        [
          'emptyrole',
          '{"role":"","content":"x","timestamp":"2026-01-01T00:00:00.000Z"}',
          /\(its role is ""\)/,
        ],
        // A message without a timestamp, or with one that is no string, is one (migrate copies the
        // Python bot's as they are).
      ]
      for (const [id, item, pattern] of cases) {
        await admin.rpush(key(id), good, item, good)
        const error = await backend.read(id).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isMemoryError(error, 'corrupt'), id).toBe(true)
        expect((error as Error).message).toMatch(pattern)
        expect((error as Error).message).toContain(`item 1 of the list "${key(id)}"`)
        expect((error as { details: unknown }).details).toEqual({ key: key(id), index: 1 })
        // With a limit, the index counts from the end, as LINDEX does.
        await expect(backend.read(id, 2)).rejects.toThrow(`item -2 of the list "${key(id)}"`)
        expect(await backend.read(id, 1)).toEqual([JSON.parse(good)])
      }
      await backend.close()
    })

    // ioredis sends SELECT at connect and only emits 'error' when the server refuses it, going on
    // with database 0.
    it('refuses a database the server does not have at open, naming it and the answer, and writes nowhere', async () => {
      const keyPrefix = prefix()
      const url = `${REDIS_URL.replace(/\/\d*$/, '')}/99`
      const expectRefused = (error: unknown) => {
        expect(isMemoryError(error, 'backend-unavailable')).toBe(true)
        const text = (error as Error).message
        expect(text).toContain(
          'refused to select database 99 at open: ERR DB index is out of range; nothing was written',
        )
        expect(text).toMatch(/raise "databases" in the server's configuration/)
        expect((error as { details: { db: number } }).details.db).toBe(99)
      }
      const backend = redisBackend({ url, keyPrefix, connectTimeoutMs: 2000 })
      expectRefused(
        await backend.open(context()).then(
          () => undefined,
          (e: unknown) => e,
        ),
      )
      await expect(backend.append([{ id: 'a', messages: [message('x')] }])).rejects.toSatisfy((e) =>
        isMemoryError(e, 'closed'),
      )
      // A client the caller configured for that database is checked the same way, and left open.
      const client = new Redis(url)
      client.on('error', () => undefined)
      expectRefused(
        await redisBackend({ client, keyPrefix })
          .open(context())
          .then(
            () => undefined,
            (e: unknown) => e,
          ),
      )
      expect(client.status).toBe('ready')
      client.disconnect()
      // openMemory({ path }) with that URL fails the same way.
      expectRefused(
        await openMemory({ path: url, flushOnExit: false }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      )
      expect(await admin.exists(`${keyPrefix}format`)).toBe(0)
    })

    it('opens on the database the URL names', async () => {
      const keyPrefix = prefix()
      const other = new Redis(`${REDIS_URL.replace(/\/\d*$/, '')}/7`)
      const memory = await openMemory({
        backend: redisBackend({ url: `${REDIS_URL.replace(/\/\d*$/, '')}/7`, keyPrefix }),
        flushOnExit: false,
      })
      await memory.add('a', message('x'))
      await memory.close()
      expect(await other.exists(`${keyPrefix}format`)).toBe(1)
      expect(await admin.exists(`${keyPrefix}format`)).toBe(0)
      await deleteKeys(other, keyPrefix)
      other.disconnect()
    })

    it('looks past a list of another type for conversations over maxMessages, and writes the others', async () => {
      const keyPrefix = prefix()
      const first = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        flushOnExit: false,
      })
      for (let i = 0; i < 10; i++) await first.add('long', message(`l${i}`))
      await first.add('foreign', message('f'))
      await first.close()
      await admin.set(`${keyPrefix}{${findBucket(keyPrefix, 'foreign')}}:m:foreign`, 'a string')
      const warnings: string[] = []
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        maxMessages: 3,
        flushOnExit: false,
        onWarning: (warning) => warnings.push(warning),
      })
      await memory.add('other', message('o'))
      await memory.flush()
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(
        /: 1 conversation holds more than maxMessages \(3\) messages, the longest "long" with 10\./,
      )
      expect((await memory.history('other')).map((m) => m.content)).toEqual(['o'])
      await memory.close()
    })

    it('warns once, before the first write trims, about conversations longer than maxMessages', async () => {
      const keyPrefix = prefix()
      const first = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        flushOnExit: false,
      })
      for (let i = 0; i < 10; i++) {
        await first.add('long', message(`l${i}`))
        if (i < 6) await first.add('mid', message(`m${i}`))
        if (i < 2) await first.add('short', message(`s${i}`))
      }
      await first.close()
      const warnings: string[] = []
      const longKey = `${keyPrefix}{${findBucket(keyPrefix, 'long')}}:m:long`
      // The list's length when the warning came, asked at once on another connection.
      let lengthAtWarning: Promise<number> | undefined
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        maxMessages: 3,
        flushOnExit: false,
        onWarning: (warning) => {
          warnings.push(warning)
          lengthAtWarning ??= admin.llen(longKey)
        },
      })
      // stats() counts what history() shows: 3 + 3 + 2, not the 18 stored.
      expect((await memory.history('long')).length).toBe(3)
      expect(await memory.stats()).toMatchObject({ conversations: 3, messages: 8 })
      // The look runs in the background from open. Its LLEN goes on another connection, which a
      // write sent right after could overtake at the server: the write waits for it here.
      await vi.waitFor(() => expect(lengthAtWarning).toBeDefined())
      expect(await lengthAtWarning).toBe(10)
      await memory.add('long', message('l10'))
      await memory.flush()
      expect(warnings).toEqual([
        `[@taurobot/memory] Redis at ${REDIS_URL}: 2 conversations hold more than maxMessages (3) messages, the longest "long" with 10. Only the newest 3 of each are kept: their oldest messages are dropped from Redis at their next write. To keep them, open the store with a larger maxMessages.`,
      ])
      expect(await admin.llen(longKey)).toBe(3)
      await memory.add('short', message('s2'))
      await memory.flush()
      expect(warnings.length).toBe(1)
      await memory.close()
      // A store with none over the limit, or a new one, gives no warning.
      const quiet: string[] = []
      const again = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        maxMessages: 10,
        flushOnExit: false,
        onWarning: (warning) => quiet.push(warning),
      })
      await again.add('long', message('l11'))
      await again.flush()
      expect(await again.stats()).toMatchObject({ conversations: 3, messages: 4 + 6 + 3 })
      await again.close()
      expect(quiet).toEqual([])
    })

    it('looks for long conversations only when a larger maxMessages was used under the prefix', async () => {
      const keyPrefix = prefix()
      const limitKey = `${keyPrefix}limit`
      const open = async (maxMessages: number, warnings: string[]) =>
        openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix }),
          maxMessages,
          flushOnExit: false,
          onWarning: (warning) => warnings.push(warning),
        })
      const first = await open(10, [])
      for (let i = 0; i < 10; i++) await first.add('long', message(`l${i}`))
      await first.close()
      expect(await admin.get(limitKey)).toBe('10')
      // The record says no store used more than 3: the look is skipped, so the 10 messages of
      // "long" (written here behind the store's back) give no warning.
      await admin.set(limitKey, '3')
      const skipped: string[] = []
      const trusting = await open(3, skipped)
      await trusting.add('other', message('o'))
      await trusting.flush()
      await trusting.close()
      expect(skipped).toEqual([])
      // A store of an earlier version recorded nothing: the look runs, warns, and records the
      // longest it found, so the next open with the small limit looks again while "long" is there.
      await admin.del(limitKey)
      const looked: string[] = []
      const legacy = await open(5, looked)
      await legacy.add('other', message('o2'))
      await legacy.flush()
      await legacy.close()
      expect(looked).toHaveLength(1)
      expect(looked[0]).toMatch(/the longest "long" with 10\./)
      expect(await admin.get(limitKey)).toBe('10')
      // A larger limit raises the record once the store writes; a smaller one never lowers it.
      const larger = await open(20, [])
      await larger.add('other', message('o3'))
      await larger.close()
      expect(await admin.get(limitKey)).toBe('20')
      const smaller: string[] = []
      const again = await open(10, smaller)
      await again.close()
      expect(await admin.get(limitKey)).toBe('20')
    })

    it('a store that only reads leaves the record, so later opens still skip the look', async () => {
      const keyPrefix = prefix()
      const limitKey = `${keyPrefix}limit`
      const writer = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        flushOnExit: false,
      })
      await writer.add('a', message('hi'))
      await writer.close()
      expect(await admin.get(limitKey)).toBe('1000')
      // As a migration opens its source: no limit, so that nothing is cut as it is read.
      const reader = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        maxMessages: Number.MAX_SAFE_INTEGER,
        flushOnExit: false,
      })
      expect(await reader.history('a')).toHaveLength(1)
      await reader.close()
      expect(await admin.get(limitKey)).toBe('1000')
      const dir = await tempDir()
      try {
        const to = join(dir.dir, 'copy.json')
        const cli = [ensureBuilt('cli.js'), 'migrate', REDIS_URL, to, '--from-key-prefix', keyPrefix]
        const result = await run(process.execPath, cli)
        expect(result.stdout).toMatch(/^migrated 1 conversation, 1 message/)
        expect(await admin.get(limitKey)).toBe('1000')
      } finally {
        await dir.cleanup()
      }
    })

    it('records the limit only once a look for long conversations completed, not when a close cut it short', async () => {
      const keyPrefix = prefix()
      const limitKey = `${keyPrefix}limit`
      // Many buckets: the look takes a round trip per bucket, so a close at once cuts it short.
      const open = async (maxMessages: number, warnings: string[]) =>
        openMemory({
          backend: redisBackend({ url: REDIS_URL, keyPrefix, buckets: 1024 }),
          maxMessages,
          flushOnExit: false,
          onWarning: (warning) => warnings.push(warning),
        })
      const first = await open(10, [])
      for (let i = 0; i < 10; i++) await first.add('long', message(`l${i}`))
      await first.close()
      // As a store of an earlier version leaves it: no limit recorded.
      await admin.del(limitKey)
      const cut: string[] = []
      const short = await open(3, cut)
      await short.close()
      expect(cut).toEqual([])
      expect(await admin.get(limitKey)).toBeNull()
      // The next open with the same small limit must still look, and warn before its write trims.
      const warnings: string[] = []
      const next = await open(3, warnings)
      await next.add('other', message('o'))
      await next.flush()
      await next.close()
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/the longest "long" with 10\./)
      expect(await admin.get(limitKey)).toBe('10')
    })

    it('sends nothing more on a given client once closed, though its look for long conversations was under way', async () => {
      const keyPrefix = prefix()
      const first = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix, buckets: 4096 }),
        maxMessages: 10,
        flushOnExit: false,
      })
      for (let i = 0; i < 10; i++) await first.add('long', message(`l${i}`))
      await first.close()
      await admin.del(`${keyPrefix}limit`)
      // ioredis misreads MONITOR lines that arrive just before its connection is in monitoring
      // mode or as it closes, with an 'error' event: other test files share this server. Only an
      // error while counting would hide a late command.
      const monitor = admin.duplicate({ monitor: true, lazyConnect: true })
      let counting = false
      const lostLines: string[] = []
      monitor.on('error', (error: Error) => {
        if (counting) lostLines.push(error.message)
      })
      const monitoring = new Promise((resolve) => monitor.once('monitoring', resolve))
      await monitor.connect()
      await monitoring
      const late: string[] = []
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (counting && args.some((arg) => arg.startsWith(keyPrefix))) late.push(args.join(' '))
      })
      const client = new Redis(REDIS_URL)
      try {
        const memory = await openMemory({
          backend: redisBackend({ client, keyPrefix }),
          maxMessages: 3,
          flushOnExit: false,
        })
        await memory.close()
        // What was sent before close() resolved may still be on its way to the monitor.
        await new Promise((resolve) => setTimeout(resolve, 100))
        counting = true
        await new Promise((resolve) => setTimeout(resolve, 300))
        counting = false
        expect(late).toEqual([])
        expect(lostLines).toEqual([])
      } finally {
        counting = false
        monitor.disconnect()
        client.disconnect()
      }
    })
  })
}

// Mirrors the backend's bucket function, to look at its keys from outside.
function findBucket(_prefix: string, id: string, buckets = 16): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(id, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % buckets
}
