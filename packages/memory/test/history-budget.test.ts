import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Backend, Memory, MemoryOptions, OverBudgetInfo } from '../src/index.js'
import { estimateTokens, memoryBackend, openMemory } from '../src/index.js'
import { tempDir } from './helpers.js'

const open: Memory[] = []
afterEach(async () => {
  for (const memory of open.splice(0)) await memory.destroy()
})

async function store(options: MemoryOptions = {}): Promise<Memory> {
  const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false, ...options })
  open.push(memory)
  return memory
}

/** A memory backend that records the `limit` of every read, to see how much a history() reads. */
function recordingBackend(reads: Array<number | undefined>): Backend {
  const backend = memoryBackend()
  const read = backend.read.bind(backend)
  return Object.assign(backend, {
    read: (id: string, limit?: number) => {
      reads.push(limit)
      return read(id, limit)
    },
  })
}

const contents = (messages: Array<{ content: string }>) => messages.map((m) => m.content)

describe('history({ maxTokens })', () => {
  it('counts each message as its context() line with the default estimate', async () => {
    const memory = await store()
    await memory.add(1, { role: 'user', content: 'Ciao! Come posso aiutarti oggi?' })
    await memory.add(1, { role: 'assistant', content: 'Domani a Milano è previsto sole.' })
    await memory.add(1, { role: 'user', content: 'Grazie!' })
    const lines = (await memory.history(1)).map((m) => estimateTokens(`${m.role}: ${m.content}`))
    const [, second = 0, third = 0] = lines
    expect(contents(await memory.history(1, { maxTokens: second + third }))).toEqual([
      'Domani a Milano è previsto sole.',
      'Grazie!',
    ])
    expect(contents(await memory.history(1, { maxTokens: second + third - 1 }))).toEqual(['Grazie!'])
  })

  it('passes the role: content line to countTokens and never splits a message', async () => {
    const memory = await store()
    const seen: string[] = []
    await memory.add('c', { role: 'user', content: 'uno due' })
    await memory.add('c', { role: 'assistant', content: 'tre' })
    const words = (text: string) => {
      seen.push(text)
      return text.split(' ').length
    }
    expect(contents(await memory.history('c', { maxTokens: 5, countTokens: words }))).toEqual([
      'uno due',
      'tre',
    ])
    expect(seen).toEqual(['assistant: tre', 'user: uno due'])
    expect(contents(await memory.history('c', { maxTokens: 4, countTokens: words }))).toEqual(['tre'])
  })

  it('counts a stored message once per counter across calls', async () => {
    const memory = await store()
    for (let i = 0; i < 10; i++) await memory.add('n', { role: 'user', content: String(i) })
    await memory.flush()
    let calls = 0
    const counter = () => {
      calls++
      return 1
    }
    expect(await memory.history('n', { maxTokens: 5, countTokens: counter })).toHaveLength(5)
    expect(await memory.history('n', { maxTokens: 8, countTokens: counter })).toHaveLength(8)
    expect(calls).toBe(9)
  })

  it('stops at the first message that does not fit, so the result is the newest tail', async () => {
    const memory = await store()
    for (const content of ['a', 'bbbbbbbbbb', 'c', 'd']) await memory.add('t', { role: 'user', content })
    const length = (text: string) => text.length - 'user: '.length
    expect(contents(await memory.history('t', { maxTokens: 5, countTokens: length }))).toEqual(['c', 'd'])
  })

  it('returns the newest message alone when it is over the budget and calls onOverBudget', async () => {
    const memory = await store()
    await memory.add('x', { role: 'user', content: 'short' })
    await memory.add('x', { role: 'assistant', content: 'a very long answer' })
    const told: OverBudgetInfo[] = []
    const messages = await memory.history('x', {
      maxTokens: 3,
      countTokens: (text) => text.split(' ').length,
      onOverBudget: (info) => told.push(info),
    })
    expect(contents(messages)).toEqual(['a very long answer'])
    expect(told).toEqual([{ conversation: 'x', tokens: 5, maxTokens: 3 }])
  })

  it('without onOverBudget, says so through the warning event', async () => {
    const memory = await store()
    const warnings: string[] = []
    memory.on('warning', (text) => warnings.push(text))
    await memory.add(7, { role: 'user', content: 'x'.repeat(400) })
    expect(await memory.context(7, { maxTokens: 10 })).toBe(`user: ${'x'.repeat(400)}`)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /newest message of conversation "7" alone takes \d+ tokens, over maxTokens 10/,
    )
  })

  it('applies limit and maxMessages together with maxTokens', async () => {
    const memory = await store({ maxMessages: 5 })
    for (let i = 0; i < 8; i++) await memory.add('l', { role: 'user', content: String(i) })
    const one = () => 1
    expect(contents(await memory.history('l', { maxTokens: 100, countTokens: one }))).toEqual([
      '3',
      '4',
      '5',
      '6',
      '7',
    ])
    expect(contents(await memory.history('l', { maxTokens: 100, countTokens: one, limit: 2 }))).toEqual([
      '6',
      '7',
    ])
    expect(contents(await memory.history('l', { maxTokens: 3, countTokens: one, limit: 4 }))).toEqual([
      '5',
      '6',
      '7',
    ])
    expect(await memory.history('l', { maxTokens: 3, limit: 0 })).toEqual([])
    expect(await memory.history('nobody', { maxTokens: 3 })).toEqual([])
  })

  it('reads stored messages in growing windows from the end, not the whole conversation', async () => {
    const reads: Array<number | undefined> = []
    const memory = await store({ backend: recordingBackend(reads), maxMessages: 10_000 })
    for (let i = 0; i < 5000; i++) await memory.add('long', { role: 'user', content: String(i) })
    await memory.flush()
    reads.length = 0
    const picked = await memory.history('long', { maxTokens: 100, countTokens: () => 1 })
    expect(picked).toHaveLength(100)
    expect(picked.at(-1)?.content).toBe('4999')
    expect(reads).toEqual([64, 256])
    reads.length = 0
    expect(await memory.history('long', { maxTokens: 10, countTokens: () => 1 })).toHaveLength(10)
    expect(reads).toEqual([64])
  })

  it('returns copies: changing a returned message changes nothing stored', async () => {
    const memory = await store()
    await memory.add('k', { role: 'user', content: 'kept' })
    const [first] = await memory.history('k', { maxTokens: 100 })
    if (first !== undefined) first.content = 'changed'
    expect(contents(await memory.history('k'))).toEqual(['kept'])
  })
})

describe('history() token options: bad input', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp, ErrorConstructor]> = [
    ['maxTokens of 0', { maxTokens: 0 }, /maxTokens must be a positive integer, got 0/, RangeError],
    ['maxTokens of 1.5', { maxTokens: 1.5 }, /maxTokens must be a positive integer, got 1.5/, RangeError],
    [
      'maxTokens of NaN',
      { maxTokens: Number.NaN },
      /maxTokens must be a positive integer, got NaN/,
      RangeError,
    ],
    [
      'maxTokens as a string',
      { maxTokens: '3000' },
      /maxTokens must be a positive integer, got "3000"/,
      TypeError,
    ],
    [
      'countTokens not a function',
      { maxTokens: 9, countTokens: 4 },
      /countTokens must be a function/,
      TypeError,
    ],
    [
      'onOverBudget not a function',
      { maxTokens: 9, onOverBudget: 'x' },
      /onOverBudget must be a function/,
      TypeError,
    ],
    [
      'countTokens without maxTokens',
      { countTokens: () => 1 },
      /countTokens has no effect without maxTokens/,
      TypeError,
    ],
    ['an unknown option', { maxToken: 9 }, /unknown option "maxToken": did you mean maxTokens\?/, TypeError],
    [
      'countTokens returning NaN',
      { maxTokens: 9, countTokens: () => Number.NaN },
      /countTokens must return a non-negative integer, got NaN/,
      RangeError,
    ],
    [
      'countTokens returning -1',
      { maxTokens: 9, countTokens: () => -1 },
      /countTokens must return a non-negative integer, got -1/,
      RangeError,
    ],
    ['countTokens returning 2.5', { maxTokens: 9, countTokens: () => 2.5 }, /got 2.5/, RangeError],
    [
      'countTokens returning a string',
      { maxTokens: 9, countTokens: () => '3' },
      /synchronously, got "3"/,
      TypeError,
    ],
    [
      'countTokens returning a Promise',
      { maxTokens: 9, countTokens: async () => 3 },
      /synchronously, got a Promise/,
      TypeError,
    ],
  ]
  for (const [name, options, message, type] of cases) {
    it(`rejects ${name} with a ${type.name}; nothing changes`, async () => {
      const memory = await store()
      await memory.add('b', { role: 'user', content: 'one' })
      await memory.flush()
      await memory.add('b', { role: 'user', content: 'two' })
      for (const read of [() => memory.history('b', options), () => memory.context('b', options)]) {
        const error = await read().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(type)
        expect((error as Error).message).toMatch(message)
      }
      expect(contents(await memory.history('b'))).toEqual(['one', 'two'])
      expect(await memory.stats()).toMatchObject({ messages: 2, pending: 1 })
    })
  }

  it('a counter that throws rejects with a TypeError whose cause is its error', async () => {
    const memory = await store()
    await memory.add('b', { role: 'user', content: 'one' })
    const boom = new Error('tokenizer not loaded')
    const error = await memory
      .history('b', {
        maxTokens: 9,
        countTokens: () => {
          throw boom
        },
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/countTokens threw on a message: tokenizer not loaded/)
    expect((error as Error).cause).toBe(boom)
    expect(contents(await memory.history('b'))).toEqual(['one'])
  })
})

describe('await using', () => {
  it('closes the store at the end of the block, writing what is pending', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const path = join(dir, 'conversations.json')
      let outside: Memory | undefined
      {
        await using memory = await openMemory({ path, saveEvery: 1000, flushOnExit: false })
        outside = memory
        await memory.add('u', { role: 'user', content: 'written on dispose' })
        expect((await memory.stats()).pending).toBe(1)
      }
      const error = await outside.history('u').catch((e: unknown) => e)
      expect((error as { code?: string }).code).toBe('closed')
      // The lock is released too: the same file opens again, with the message.
      await using again = await openMemory({ path, flushOnExit: false })
      expect(contents(await again.history('u'))).toEqual(['written on dispose'])
    } finally {
      await cleanup()
    }
  })
})
