import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseJournal } from '../src/backends/file/journal.js'
import type { Backend, BackendContext, Memory, MemoryOptions } from '../src/index.js'
import { isMemoryError, MemoryError, memoryBackend, openMemory } from '../src/index.js'
import { tempDir, testScratch } from './helpers.js'

const open: Memory[] = []
afterEach(async () => {
  for (const memory of open.splice(0)) await memory.destroy()
})

async function store(options: MemoryOptions = {}): Promise<Memory> {
  const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false, ...options })
  open.push(memory)
  return memory
}

describe('openMemory options', () => {
  const cases: Array<[string, unknown, RegExp, ErrorConstructor]> = [
    ['unknown option', { saveEvry: 5 }, /unknown option "saveEvry": did you mean saveEvery\?/, TypeError],
    [
      'a file backend option',
      { compactOnClose: 'always' },
      /unknown option "compactOnClose": it is an option of fileBackend\(\): openMemory\(\{ backend: fileBackend/,
      TypeError,
    ],
    [
      'a SQLite backend option',
      { busyTimeoutMs: 1 },
      /"busyTimeoutMs": it is an option of sqliteBackend\(\)/,
      TypeError,
    ],
    [
      'a Redis backend option',
      { keyPrefix: 'bot:' },
      /"keyPrefix": it is an option of redisBackend\(\)/,
      TypeError,
    ],
    [
      'toString is not an option',
      { toString: 1 },
      /^unknown option "toString"; the options are .*maxMessages/,
      TypeError,
    ],
    ['saveEvery 0', { saveEvery: 0 }, /saveEvery must be a positive integer.*got 0/, RangeError],
    ['saveEvery 1.5', { saveEvery: 1.5 }, /saveEvery .*got 1\.5/, RangeError],
    ['saveEvery string', { saveEvery: '5' }, /saveEvery must be a positive integer, got "5"/, TypeError],
    ['maxMessages -1', { maxMessages: -1 }, /maxMessages .*got -1/, RangeError],
    ['maxMessageBytes NaN', { maxMessageBytes: Number.NaN }, /maxMessageBytes .*got NaN/, RangeError],
    ['flushIntervalMs huge', { flushIntervalMs: 2 ** 40 }, /flushIntervalMs .*got 1099511627776/, RangeError],
    ['maxPending 0', { maxPending: 0 }, /maxPending .*got 0/, RangeError],
    ['maxPendingBytes 0', { maxPendingBytes: 0 }, /maxPendingBytes .*got 0/, RangeError],
    [
      'maxBatchBytes string',
      { maxBatchBytes: '1' },
      /maxBatchBytes must be a positive integer, got "1"/,
      TypeError,
    ],
    [
      'maxBatchBytes past 256 MiB',
      { maxBatchBytes: 2 ** 29 },
      /maxBatchBytes must be a positive integer up to 268435456, got 536870912/,
      RangeError,
    ],
    [
      'maxBatchBytes below maxMessageBytes',
      { maxBatchBytes: 1000, maxMessageBytes: 2000 },
      /maxMessageBytes must not exceed maxBatchBytes, got 2000 > 1000.*Raise maxBatchBytes or lower maxMessageBytes/,
      RangeError,
    ],
    [
      'maxPendingBytes below the default maxMessageBytes',
      { maxPendingBytes: 1000 },
      /maxMessageBytes must not exceed maxPendingBytes, got 1048576 > 1000/,
      RangeError,
    ],
    ['durability', { durability: 'fast' }, /durability must be 'batched' or 'strict', got "fast"/, TypeError],
    ['flushOnExit', { flushOnExit: 'yes' }, /flushOnExit must be a boolean, got "yes"/, TypeError],
    ['onSave', { onSave: 1 }, /onSave must be a function, got 1/, TypeError],
    ['path empty', { path: '' }, /path must be a non-empty string, got ""/, TypeError],
    ['path number', { path: 3 }, /path must be a non-empty string, got 3/, TypeError],
    ['backend shape', { backend: {} }, /backend must be a Backend/, TypeError],
    ['options not object', 'x', /options must be an object, got "x"/, TypeError],
  ]
  for (const [label, options, message, type] of cases) {
    it(`rejects ${label}`, async () => {
      const attempt = openMemory(options as MemoryOptions)
      await expect(attempt).rejects.toThrow(message)
      await expect(attempt).rejects.toBeInstanceOf(type)
    })
  }

  it('rejects path together with backend', async () => {
    // Also at run time, for JavaScript and for values typed MemoryOptions.
    // @ts-expect-error both path and backend do not compile (see options-types.test.ts)
    await expect(openMemory({ path: 'x.json', backend: memoryBackend() })).rejects.toThrow(
      /cannot be used together/,
    )
  })
})

describe('add() input validation', () => {
  const ids: Array<[unknown, RegExp, ErrorConstructor]> = [
    ['', /id must be a non-empty string or a finite number, got ""/, RangeError],
    [Number.NaN, /id must be a finite number, got NaN/, RangeError],
    [Number.POSITIVE_INFINITY, /id must be a finite number, got Infinity/, RangeError],
    [{}, /id must be .* got an object/, TypeError],
    [null, /id must be .* got null/, TypeError],
    [undefined, /id must be .* got undefined/, TypeError],
    [10n, /id must be .* got 10n/, TypeError],
  ]
  for (const [id, message, type] of ids) {
    it(`rejects id ${String(id)}`, async () => {
      const memory = await store()
      const attempt = memory.add(id as string, { role: 'user', content: 'x' })
      await expect(attempt).rejects.toThrow(message)
      await expect(attempt).rejects.toBeInstanceOf(type)
      await expect(memory.history(id as string)).rejects.toBeInstanceOf(type)
      await expect(memory.clear(id as string)).rejects.toBeInstanceOf(type)
    })
  }

  const messages: Array<[string, unknown, RegExp]> = [
    ['not an object', 'hello', /message must be an object with role and content, got "hello"/],
    ['content number', { role: 'user', content: 42 }, /message.content must be a string, got 42/],
    ['content missing', { role: 'user' }, /message.content must be a string, got undefined/],
    ['role empty', { role: '', content: 'x' }, /message.role must be a non-empty string, got ""/],
    [
      'timestamp bad',
      { role: 'user', content: 'x', timestamp: 'yesterday' },
      /message.timestamp .*got "yesterday"/,
    ],
    [
      'bigint field',
      { role: 'user', content: 'x', n: 1n },
      /message.n is a bigint \(1n\): store it as a string or a number/,
    ],
  ]
  for (const [label, input, message] of messages) {
    it(`rejects a message with ${label}`, async () => {
      const memory = await store()
      const attempt = memory.add('a', input as never)
      await expect(attempt).rejects.toThrow(message)
      await expect(attempt).rejects.toBeInstanceOf(TypeError)
      expect(await memory.history('a')).toEqual([])
    })
  }

  it('rejects a message above maxMessageBytes with RangeError', async () => {
    const memory = await store({ maxMessageBytes: 100 })
    await expect(memory.add('a', { role: 'user', content: 'x'.repeat(200) })).rejects.toThrow(
      /above maxMessageBytes \(100\)/,
    )
    await expect(memory.add('a', { role: 'user', content: 'x'.repeat(200) })).rejects.toBeInstanceOf(
      RangeError,
    )
  })

  it('accepts a message of 1 MiB by default and refuses one just above', async () => {
    const memory = await store()
    const overhead = JSON.stringify({
      role: 'user',
      content: '',
      timestamp: new Date().toISOString(),
      id: '00000000-0000-0000-0000-000000000000',
    }).length
    await memory.add('a', { role: 'user', content: 'x'.repeat(1_048_576 - overhead) })
    await expect(
      memory.add('a', { role: 'user', content: 'x'.repeat(1_048_577 - overhead) }),
    ).rejects.toBeInstanceOf(RangeError)
  })

  it('rejects bad history and prune options', async () => {
    const memory = await store()
    await expect(memory.history('a', { limit: -1 })).rejects.toThrow(
      /limit must be a non-negative integer, got -1/,
    )
    await expect(memory.history('a', { limit: '3' as never })).rejects.toBeInstanceOf(TypeError)
    await expect(memory.history('a', { lmit: 3 } as never)).rejects.toThrow(
      /unknown option "lmit": did you mean limit\?/,
    )
    await expect(memory.prune({ olderThanDays: -2 })).rejects.toThrow(
      /olderThanDays must be a finite number >= 0, got -2/,
    )
    await expect(memory.prune({ olderThanDays: Number.NaN })).rejects.toBeInstanceOf(RangeError)
    await expect(memory.prune({} as never)).rejects.toThrow(/olderThanDays must be a number, got undefined/)
    await expect(memory.prune({ olderThanDay: 3 } as never)).rejects.toThrow(
      /unknown option "olderThanDay": did you mean olderThanDays\?/,
    )
  })
})

describe('store behaviour', () => {
  it('keeps extra fields, fills the timestamp, returns copies', async () => {
    const memory = await store()
    const stored = await memory.add('a', { role: 'user', content: 'x', lang: 'it' })
    expect(stored.lang).toBe('it')
    expect(stored.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    stored.content = 'mutated'
    const [first] = await memory.history('a')
    expect(first?.content).toBe('x')
    if (first) first.content = 'mutated again'
    expect((await memory.history('a'))[0]?.content).toBe('x')
  })

  it('numbers and their decimal strings name the same conversation', async () => {
    const memory = await store()
    await memory.add(-1001234567890, { role: 'user', content: 'a' })
    await memory.add('-1001234567890', { role: 'user', content: 'b' })
    expect((await memory.history(-1001234567890)).map((m) => m.content)).toEqual(['a', 'b'])
  })

  it('__proto__ and constructor ids do not pollute prototypes', async () => {
    const memory = await store()
    await memory.add('__proto__', { role: 'user', content: 'p' })
    await memory.add('constructor', { role: 'user', content: 'c' })
    await memory.add('x', {
      role: 'user',
      content: 'x',
      ['__proto__' as string]: { polluted: true },
    } as never)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((await memory.history('__proto__')).map((m) => m.content)).toEqual(['p'])
    expect((await memory.history('constructor')).map((m) => m.content)).toEqual(['c'])
    expect(await memory.stats()).toMatchObject({ conversations: 3, messages: 3 })
  })

  it('trims history to maxMessages including pending messages', async () => {
    const memory = await store({ maxMessages: 3, saveEvery: 2 })
    for (let i = 0; i < 7; i++) await memory.add('a', { role: 'user', content: String(i) })
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['4', '5', '6'])
    await memory.flush()
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['4', '5', '6'])
  })

  it('flushes after flushIntervalMs without reaching saveEvery', async () => {
    const memory = await store({ saveEvery: 100, flushIntervalMs: 20 })
    const saved = new Promise((resolve) => memory.on('save', resolve))
    await memory.add('a', { role: 'user', content: 'x' })
    expect((await memory.stats()).pending).toBe(1)
    await saved
    expect((await memory.stats()).pending).toBe(0)
  })

  it('applies maxPending backpressure when writes fail, keeping what was accepted', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const path = await storeWhoseNextWriteFails(dir)
      const errors: unknown[] = []
      const memory = await openMemory({
        path,
        saveEvery: 2,
        maxPending: 4,
        flushOnExit: false,
        onError: (e) => errors.push(e),
      })
      open.push(memory)
      for (let i = 0; i < 4; i++) await memory.add('a', { role: 'user', content: String(i) })
      const refused = memory.add('a', { role: 'user', content: 'too many' })
      await expect(refused).rejects.toSatisfy((error) => isMemoryError(error, 'backpressure'))
      await expect(refused).rejects.toThrow(/maxPending/)
      await expect(memory.flush()).rejects.toThrow(/EISDIR/)
      expect(errors.length).toBeGreaterThan(0)
      expect((await memory.history('a')).map((m) => m.content)).toEqual(['before', '0', '1', '2', '3'])
      await rm(`${path}.bak`, { recursive: true })
      await memory.flush()
      expect((await memory.stats()).messages).toBe(5)
      await memory.add('a', { role: 'user', content: 'accepted again' })
      expect((await memory.history('a')).map((m) => m.content)).toEqual([
        'before',
        '0',
        '1',
        '2',
        '3',
        'accepted again',
      ])
      await memory.close()
    } finally {
      await cleanup()
    }
  })

  it('addMany() is refused with backpressure while writes fail, as add() is', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const path = await storeWhoseNextWriteFails(dir)
      const memory = await openMemory({
        path,
        saveEvery: 2,
        maxPending: 4,
        flushOnExit: false,
        onError: () => {},
      })
      open.push(memory)
      const messages = Array.from({ length: 10 }, (_, i) => ({ role: 'user', content: String(i) }))
      const refused = memory.addMany('a', messages)
      await expect(refused).rejects.toSatisfy((error) => isMemoryError(error, 'backpressure'))
      // What was accepted before the refusal is kept, in order, and written once the fault is gone.
      const kept = (await memory.history('a')).map((m) => m.content)
      expect(kept.length).toBeLessThan(11)
      expect(kept).toEqual(['before', ...messages.slice(0, kept.length - 1).map((m) => m.content)])
      await rm(`${path}.bak`, { recursive: true })
      await memory.flush()
      expect((await memory.stats()).messages).toBe(kept.length)
      await memory.close()
    } finally {
      await cleanup()
    }
  })

  it('a backend can ask for a flush, which retries at once after a failed write', async () => {
    // A user-written backend in front of the memory backend, one that can be switched off:
    // the store API lets any backend do this, so the hook is tested through it.
    const inner = memoryBackend()
    let context: BackendContext | undefined
    let available = false
    const backend: Backend = {
      name: 'switchable',
      open: (ctx) => {
        context = ctx
        return inner.open(ctx)
      },
      append: (batch) =>
        available
          ? inner.append(batch)
          : Promise.reject(new MemoryError('backend-unavailable', 'switched off')),
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
    }
    const errors: unknown[] = []
    const saves: number[] = []
    const memory = await store({
      backend,
      saveEvery: 2,
      flushIntervalMs: 600_000,
      onError: (e) => errors.push(e),
    })
    memory.on('save', (info) => saves.push(info.messages))
    await memory.add('a', { role: 'user', content: '1' })
    await memory.add('a', { role: 'user', content: '2' })
    await expect.poll(() => errors.length).toBe(1)
    // A failed store waits for the timer (10 minutes here) before it tries again on its own.
    await memory.add('a', { role: 'user', content: '3' })
    expect((await memory.stats()).pending).toBe(3)
    available = true
    context?.requestFlush?.()
    await expect.poll(() => saves).toEqual([3])
    expect((await inner.read('a')).map((m) => m.content)).toEqual(['1', '2', '3'])
    expect((await memory.stats()).pending).toBe(0)
  })

  it('requestFlush with nothing pending writes nothing', async () => {
    let context: BackendContext | undefined
    const inner = memoryBackend()
    const backend: Backend = {
      name: 'observed',
      open: (ctx) => {
        context = ctx
        return inner.open(ctx)
      },
      append: (batch) => inner.append(batch),
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
    }
    const memory = await store({ backend })
    const saves: number[] = []
    memory.on('save', (info) => saves.push(info.messages))
    context?.requestFlush?.()
    await memory.flush()
    expect(saves).toEqual([])
  })

  it('clear() drops pending messages of that conversation', async () => {
    const memory = await store({ saveEvery: 100 })
    await memory.add('a', { role: 'user', content: 'x' })
    expect(await memory.clear('a')).toBe(true)
    await memory.flush()
    expect(await memory.history('a')).toEqual([])
  })

  it('on() returns an unsubscribe function; off() removes', async () => {
    const memory = await store({ saveEvery: 1 })
    const seen: number[] = []
    const unsubscribe = memory.on('save', (info) => seen.push(info.messages))
    await memory.add('a', { role: 'user', content: 'x' })
    await memory.flush()
    unsubscribe()
    await memory.add('a', { role: 'user', content: 'y' })
    await memory.flush()
    expect(seen).toEqual([1])
    expect(() => memory.on('save', 3 as never)).toThrow(TypeError)
  })

  it('destroy() rejects waiting strict adds with code closed', async () => {
    // A write held in flight on purpose (not a fault): the in-process backend answers at once.
    const backend = memoryBackend()
    const append = backend.append.bind(backend)
    let release: () => void = () => undefined
    backend.append = (batch) =>
      new Promise((resolve) => {
        release = () => resolve(append(batch))
      })
    const memory = await openMemory({ backend, durability: 'strict', flushOnExit: false })
    const first = memory.add('a', { role: 'user', content: '1' })
    await new Promise((r) => setTimeout(r, 5))
    const second = memory.add('a', { role: 'user', content: '2' })
    const destroyed = memory.destroy()
    await expect(second).rejects.toSatisfy((error) => isMemoryError(error, 'closed'))
    release()
    await first
    await destroyed
  })
})

describe('what add() accepts is what is read back', () => {
  const scratch = testScratch()

  it('refuses a message whose own toJSON() returns a string; the store still opens with every other message', async () => {
    const path = join(await scratch.fresh(), 'c.json')
    const memory = await scratch.open({ path, saveEvery: 1 })
    await memory.add('a', { role: 'user', content: 'before' })
    const poisoned = { role: 'user', content: 'x', toJSON: () => 'a string' }
    await expect(memory.add('b', poisoned)).rejects.toThrow(
      /message must serialise to an object with role, content and timestamp, but it is "a string"/,
    )
    await memory.add('c', { role: 'user', content: 'after' })
    await memory.flush()
    await memory.add('c', { role: 'user', content: 'last' })
    await memory.flush()
    // A crash: no snapshot, the journal alone must load.
    await memory.destroy()
    const again = await scratch.open({ path })
    expect((await again.history('a')).map((m) => m.content)).toEqual(['before'])
    expect(await again.history('b')).toEqual([])
    expect((await again.history('c')).map((m) => m.content)).toEqual(['after', 'last'])
    await again.close()
    const third = await scratch.open({ path })
    expect((await third.history('c')).map((m) => m.content)).toEqual(['after', 'last'])
  })
})

describe('the journal loader and add() share one rule', () => {
  it('a journal message without role, or a string, is a damaged record, as add() would refuse it', () => {
    const good = JSON.stringify({ s: 1, a: [['a', [{ role: 'user', content: 'x', timestamp: 'T' }]]] })
    for (const [message, problem] of [
      ['"a string"', 'it is "a string"'],
      ['{"content":"x","timestamp":"T"}', 'its role is undefined'],
    ]) {
      const bad = `{"s":2,"a":[["a",[${message}]]]}`
      const third = JSON.stringify({ s: 3, c: ['a'] })
      const parsed = parseJournal(Buffer.from(`${good}\n${bad}\n${third}\n`))
      expect(parsed.records.map((record) => record.s)).toEqual([1, 3])
      expect(parsed.damaged).toEqual([
        { line: 2, offset: good.length + 1, reason: `bad message: ${problem}` },
      ])
    }
  })

  it('a journal message without a timestamp, or with a number, is no damage: migrate() writes the Python bot’s as they are', () => {
    const record = JSON.stringify({
      s: 1,
      a: [
        [
          'a',
          [
            { role: 'user', content: 'x' },
            { role: 'user', content: 'y', timestamp: 1735689600 },
          ],
        ],
      ],
    })
    const parsed = parseJournal(Buffer.from(`${record}\n`))
    expect(parsed.damaged).toEqual([])
    expect(parsed.records).toHaveLength(1)
  })
})

describe('write failures and byte bounds', () => {
  // A backend whose writes throw a plain error, not a MemoryError: the store must wrap whatever a
  // backend throws. The real case (V8's "Invalid string length" on a record past 512 MB) needs
  // more memory than a test should take, so the throw is made here.
  function throwing(make: () => Error): { backend: Backend; heal(): void } {
    const inner = memoryBackend()
    let broken = true
    const backend: Backend = {
      name: 'throwing',
      open: (ctx) => inner.open(ctx),
      append: (batch) => {
        if (broken) throw make()
        return inner.append(batch)
      },
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
    }
    return {
      backend,
      heal: () => {
        broken = false
      },
    }
  }

  it('a backend write that throws a non-MemoryError rejects flush() with code io, keeping the messages', async () => {
    const { backend, heal } = throwing(() => new RangeError('Invalid string length'))
    const errors: unknown[] = []
    const memory = await store({
      backend,
      saveEvery: 100,
      flushIntervalMs: 600_000,
      onError: (e) => errors.push(e),
    })
    await memory.add('a', { role: 'user', content: '1' })
    await memory.add('b', { role: 'user', content: '2' })
    const failure = await memory.flush().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(isMemoryError(failure, 'io')).toBe(true)
    expect((failure as MemoryError).cause).toBeInstanceOf(RangeError)
    expect((failure as MemoryError).message).toMatch(
      /the throwing backend could not write 2 messages of 2 conversations .*Invalid string length\. They are kept in memory/,
    )
    expect((await memory.stats()).pending).toBe(2)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['1'])
    heal()
    await memory.flush()
    expect((await memory.stats()).messages).toBe(2)
  })

  it('a strict add rejects with that MemoryError, the cause attached', async () => {
    const { backend } = throwing(() => new TypeError('driver exploded'))
    const memory = await store({ backend, durability: 'strict', onError: () => undefined })
    const attempt = memory.add('a', { role: 'user', content: '1' })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(/driver exploded\. These messages were not stored/)
  })

  it('maxPendingBytes bounds the backlog in bytes: refused while writes fail, kept and written after', async () => {
    const { backend, heal } = throwing(() => new Error('down'))
    const memory = await store({
      backend,
      maxMessageBytes: 10_000,
      maxPendingBytes: 30_000,
      saveEvery: 1,
      flushIntervalMs: 600_000,
      onError: () => undefined,
    })
    const big = 'x'.repeat(9000)
    for (let i = 0; i < 3; i++) await memory.add('a', { role: 'user', content: `${i}${big}` })
    await expect(memory.flush()).rejects.toThrow(/down/)
    const refused = memory.add('a', { role: 'user', content: `3${big}` })
    await expect(refused).rejects.toSatisfy((error) => isMemoryError(error, 'backpressure'))
    await expect(refused).rejects.toThrow(/maxPendingBytes.*the last write failed/)
    expect((await memory.stats()).pending).toBe(3)
    heal()
    await memory.flush()
    await memory.add('a', { role: 'user', content: `3${big}` })
    await memory.flush()
    expect((await memory.history('a')).map((m) => m.content.slice(0, 1))).toEqual(['0', '1', '2', '3'])
  })

  it('past maxPendingBytes a healthy store makes add() wait for room', async () => {
    const memory = await store({ maxMessageBytes: 10_000, maxPendingBytes: 20_000, saveEvery: 1000 })
    const big = 'y'.repeat(9000)
    // Two fit, two wait (as many bytes again may wait).
    const adds = Array.from({ length: 4 }, (_, i) => memory.add('a', { role: 'user', content: `${i}${big}` }))
    expect((await memory.stats()).pending).toBeLessThanOrEqual(2)
    await Promise.all(adds)
    await memory.flush()
    expect((await memory.history('a')).map((m) => m.content.slice(0, 1))).toEqual(['0', '1', '2', '3'])
  })

  it('strict adds past maxPending wait for room too, and each resolves once durable, in order', async () => {
    const memory = await store({ durability: 'strict', maxPending: 2 })
    const adds = Array.from({ length: 4 }, (_, i) => memory.add('s', { role: 'user', content: String(i) }))
    await Promise.all(adds)
    expect((await memory.stats()).pending).toBe(0)
    expect((await memory.history('s')).map((m) => m.content)).toEqual(['0', '1', '2', '3'])
  })

  it('refuses adds beyond maxPending already waiting, naming the remedy', async () => {
    const memory = await store({ maxPending: 3, saveEvery: 1000 })
    const adds = Array.from({ length: 7 }, (_, i) => memory.add('a', { role: 'user', content: String(i) }))
    const settled = await Promise.allSettled(adds)
    expect(settled.map((s) => s.status)).toEqual([...Array(6).fill('fulfilled'), 'rejected'])
    const refused = settled[6] as PromiseRejectedResult
    expect(isMemoryError(refused.reason, 'backpressure')).toBe(true)
    expect(String(refused.reason.message)).toMatch(/3 adds are already waiting.*Await each add\(\)/)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0', '1', '2', '3', '4', '5'])
  })

  it('every add() resolves with its own copy of the stored message, however it was taken', async () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    const check = async (memory: Memory, adds: Array<Promise<unknown>>, contents: string[]) => {
      const answers = (await Promise.all(adds)) as Array<Record<string, unknown>>
      expect(answers.map((m) => m.content)).toEqual(contents)
      for (const answer of answers) {
        expect(Object.keys(answer)).toEqual(['role', 'content', 'timestamp', 'id'])
        expect(answer.id).toMatch(UUID)
        answer.content = 'changed by the caller'
      }
      await memory.flush()
      return answers
    }
    for (const durability of ['strict', 'batched'] as const) {
      // With room, and past maxPending (the last two wait for room).
      const memory = await store({ durability, maxPending: 2, saveEvery: 1000 })
      const contents = ['0', '1', '2', '3']
      const answers = await check(
        memory,
        contents.map((content) => memory.add('a', { role: 'user', content })),
        contents,
      )
      const stored = await memory.history('a')
      expect(stored.map((m) => m.content)).toEqual(contents)
      expect(stored.map((m) => m.id)).toEqual(answers.map((m) => m.id))
      // Dropped by clear() before being written, pending or waiting for room: still answered.
      const dropped = ['4', '5', '6'].map((content) => memory.add('b', { role: 'user', content }))
      await memory.clear('b')
      await check(memory, dropped, ['4', '5', '6'])
      expect(await memory.history('b')).toEqual([])
    }
  })

  it('destroy() rejects adds waiting for room with code closed; clear() drops them', async () => {
    const memory = await openMemory({
      backend: memoryBackend(),
      maxPending: 2,
      saveEvery: 1000,
      flushOnExit: false,
    })
    const first = [
      memory.add('a', { role: 'user', content: '0' }),
      memory.add('a', { role: 'user', content: '1' }),
    ]
    const waiting = memory.add('b', { role: 'user', content: 'waits' })
    expect(await memory.clear('b')).toBe(false)
    await waiting
    expect(await memory.history('b')).toEqual([])
    await Promise.all(first)
    // Two fit, two wait: destroy() comes before any write made room.
    const doomed = ['2', '3', '4', '5'].map((content) => memory.add('a', { role: 'user', content }))
    const destroyed = memory.destroy()
    await Promise.all(doomed.slice(0, 2))
    for (const add of doomed.slice(2)) {
      await expect(add).rejects.toSatisfy((error) => isMemoryError(error, 'closed'))
    }
    await destroyed
  })
})

describe('byte bounds on disk', () => {
  const scratch = testScratch()

  it('importing history with await add() in a loop goes past the default maxPending', async () => {
    const path = join(await scratch.fresh(), 'c.json')
    const memory = await scratch.open({ path })
    // 12 users × 1,000 messages: more than the default maxPending (10,000) without a pause.
    for (let user = 0; user < 12; user++) {
      for (let i = 0; i < 1000; i++) await memory.add(user, { role: 'user', content: `${user}:${i}` })
    }
    await memory.close()
    const again = await scratch.open({ path })
    expect((await again.stats()).messages).toBe(12_000)
    expect((await again.history(11, { limit: 2 })).map((m) => m.content)).toEqual(['11:998', '11:999'])
  })

  it('a backlog past maxBatchBytes becomes several journal records, each within it, all read back', async () => {
    const path = join(await scratch.fresh(), 'c.json')
    const memory = await scratch.open({
      path,
      maxMessageBytes: 8192,
      maxBatchBytes: 32_768,
      saveEvery: 1000,
      flushIntervalMs: 600_000,
    })
    const text = 'ü'.repeat(3000)
    for (let i = 0; i < 40; i++) await memory.add(i % 2, { role: 'user', content: `${i} ${text}` })
    await memory.flush()
    const records = (await readFile(`${path}.journal`, 'utf8')).split('\n').filter((line) => line !== '')
    expect(records.length).toBeGreaterThanOrEqual(5)
    // The bound counts the messages and their conversations; the record's own frame is a few bytes.
    for (const record of records) expect(Buffer.byteLength(record)).toBeLessThanOrEqual(32_768 + 32)
    await memory.destroy()
    const again = await scratch.open({ path })
    for (const id of [0, 1]) {
      expect((await again.history(id)).map((m) => Number.parseInt(m.content, 10))).toEqual(
        Array.from({ length: 20 }, (_, k) => id + 2 * k),
      )
    }
  })
})

/**
 * A store at `dir`/c.json holding one message, "before", whose next opening fails its first write
 * for real: a directory stands where the .bak goes. Removing `<path>.bak` lets writes through again.
 */
async function storeWhoseNextWriteFails(dir: string): Promise<string> {
  const path = join(dir, 'c.json')
  const first = await openMemory({ path, flushOnExit: false })
  await first.add('a', { role: 'user', content: 'before' })
  await first.close()
  await mkdir(`${path}.bak`)
  await writeFile(join(`${path}.bak`, 'occupied'), 'x')
  return path
}
