import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryBackend, openMemory } from '../src/index.js'
import {
  checkMessageId,
  conversationKey,
  isoNow,
  messageProblem,
  noTimestamp,
  toMessage,
} from '../src/message.js'

const NOW = '2026-01-02T03:04:05.678Z'
const now = () => NOW
const ID = 'generated-id'
const newId = () => ID

// What add() promises to keep: the JSON copy of the input with the timestamp filled in.
function viaJson(input: Record<string, unknown>): unknown {
  const timestamp = input.timestamp === undefined ? NOW : input.timestamp
  const id = input.id === undefined ? ID : input.id
  const json = JSON.parse(
    JSON.stringify({ ...input, role: input.role, content: input.content, timestamp, id }),
  )
  // The id add() gives is kept whatever a toJSON() returns.
  json.id = id
  return json
}

class WithToJson {
  role = 'user'
  content = 'hi'
  toJSON() {
    return { role: 'system', content: 'replaced' }
  }
}

describe('toMessage', () => {
  const inputs: Array<[string, Record<string, unknown>]> = [
    ['role and content', { role: 'user', content: 'Ciao! “Come stai?” 🚀' }],
    ['a given timestamp', { role: 'user', content: 'x', timestamp: '2020-01-01T00:00:00Z' }],
    ['extra scalar fields', { role: 'user', content: 'x', id: 'm7', ok: true, none: null, name: 'n' }],
    ['integer-like keys first', { role: 'user', content: 'x', 2: 'b', 1: 'a' }],
    ['timestamp key present but undefined', { timestamp: undefined, role: 'user', content: 'x' }],
    ['a nested field', { role: 'user', content: 'x', meta: { id: 1, tags: ['a'] } }],
    ['an undefined field', { role: 'user', content: 'x', gone: undefined }],
    ['a function field', { role: 'user', content: 'x', fn: () => 1 }],
    ['a Date field', { role: 'user', content: 'x', at: new Date(0) }],
    ['-0', { role: 'user', content: 'x', z: -0 }],
    ['an own __proto__ key', JSON.parse('{"role":"user","content":"x","__proto__":{"polluted":true}}')],
    ['a toJSON method inherited from a class', new WithToJson() as unknown as Record<string, unknown>],
    ['control characters', { role: 'user', content: '\u0000\u001f\n\t"\\', note: '\ud800' }],
  ]

  for (const [name, input] of inputs) {
    it(`keeps exactly the JSON copy: ${name}`, () => {
      const { message } = toMessage(input, 1_048_576, now, newId)
      expect(message).toStrictEqual(viaJson(input))
      expect(Object.keys(message)).toEqual(Object.keys(viaJson(input) as object))
      expect(JSON.stringify(message)).toBe(JSON.stringify(viaJson(input)))
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })
  }

  it('refuses a field nested too deeply for the call stack, naming the field', () => {
    let nested: unknown = 1
    for (let depth = 0; depth < 200_000; depth++) nested = [nested]
    const input = { role: 'user', content: 'x', nest: nested }
    expect(() => toMessage(input, 1_048_576, now, newId)).toThrow(RangeError)
    expect(() => toMessage(input, 1_048_576, now, newId)).toThrow(
      /^message\.nest is nested too deeply to be checked and stored \(Maximum call stack size exceeded\): flatten it/,
    )
  })

  it('returns a copy: later changes to the input do not reach the stored message', () => {
    const input = { role: 'user', content: 'before', extra: 'kept' }
    const { message } = toMessage(input, 1000, now, newId)
    input.content = 'after'
    input.extra = 'changed'
    expect(message).toEqual({ role: 'user', content: 'before', extra: 'kept', timestamp: NOW, id: ID })
  })

  it('reads role and content once: a getter cannot swap in an unchecked value', () => {
    let reads = 0
    const input = {
      get role() {
        reads++
        return reads === 1 ? 'user' : 42
      },
      content: 'x',
    }
    const { message } = toMessage(input, 1000, now, newId)
    expect(message.role).toBe('user')
  })

  it('checks maxMessageBytes on the exact serialised size, also for escaped and multi-byte text', () => {
    for (const content of ['a'.repeat(300), '\u0001'.repeat(50), 'ß'.repeat(120), '🚀'.repeat(40)]) {
      const input = { role: 'user', content }
      const bytes = Buffer.byteLength(JSON.stringify({ ...input, timestamp: NOW, id: ID }))
      expect(toMessage(input, bytes, now, newId).message.content).toBe(content)
      expect(() => toMessage(input, bytes - 1, now, newId)).toThrow(
        new RangeError(
          `message is ${bytes} bytes once serialised, above maxMessageBytes (${bytes - 1}): shorten message.content or raise maxMessageBytes`,
        ),
      )
    }
  })

  it('keeps a given id, generates one otherwise, and refuses an id that is not a non-empty string', () => {
    expect(toMessage({ role: 'user', content: 'x', id: 'given' }, 1000, now, newId).message.id).toBe('given')
    expect(toMessage({ role: 'user', content: 'x' }, 1000, now).message.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(() => toMessage({ role: 'user', content: 'x', id: 7 }, 1000, now, newId)).toThrow(
      new TypeError('message.id must be a non-empty string, got 7'),
    )
    expect(() => toMessage({ role: 'user', content: 'x', id: '' }, 1000, now, newId)).toThrow(TypeError)
    expect(() => toMessage({ role: 'user', content: 'x', id: 'x'.repeat(257) }, 1000, now, newId)).toThrow(
      new RangeError('message.id must be at most 256 characters, got 257'),
    )
  })

  it('refuses what JSON cannot hold, naming the problem', () => {
    const cyclic: Record<string, unknown> = { role: 'user', content: 'x' }
    cyclic.self = cyclic
    expect(() => toMessage(cyclic, 1000, now, newId)).toThrow(
      /message.self.self refers back to itself \(a cycle\)/,
    )
    // What JSON would change without a word is refused, naming the field: nothing is lost quietly.
    const lossy: Array<[Record<string, unknown>, RegExp]> = [
      [{ n: Number.NaN }, /message.n is NaN, which JSON cannot hold/],
      [{ i: Number.POSITIVE_INFINITY }, /message.i is Infinity/],
      [
        { meta: new Map([['a', 1]]) },
        /message.meta is a Map, not a plain object, and would not read back the same/,
      ],
      [{ tags: new Set([1]) }, /message.tags is a Set/],
      [{ list: [undefined, 1] }, /message.list\[0\] is undefined, which JSON cannot hold in an array/],
      [{ deep: { at: [Number.NaN] } }, /message.deep.at\[0\] is NaN/],
      [{ 'odd key': new Map() }, /message\["odd key"\] is a Map/],
    ]
    for (const [fields, error] of lossy) {
      expect(() => toMessage({ role: 'user', content: 'x', ...fields }, 1000, now, newId)).toThrow(error)
    }
    // A Date (or any toJSON()) is written as JSON writes it, as documented: its ISO string.
    const { message } = toMessage({ role: 'user', content: 'x', at: { when: new Date(0) } }, 1000, now, newId)
    expect(message.at).toEqual({ when: '1970-01-01T00:00:00.000Z' })
    expect(() => toMessage({ role: 'user', content: 'x', big: 1n }, 1000, now, newId)).toThrow(TypeError)
    expect(() => toMessage({ role: 'user', content: 'x', timestamp: 'yesterday' }, 1000, now, newId)).toThrow(
      /message.timestamp must be an ISO 8601 string, got "yesterday"/,
    )
    // A Date where the string belongs is named as one, with the call that gives the string.
    expect(() => toMessage({ role: 'user', content: 'x', timestamp: new Date(0) }, 1000, now, newId)).toThrow(
      new TypeError('message.timestamp must be an ISO 8601 string, got a Date: pass date.toISOString()'),
    )
  })
})

describe('what is serialised is what is checked', () => {
  it('refuses an own toJSON() that turns the message into a string, naming the problem', () => {
    const input = { role: 'user', content: 'hi', toJSON: () => 'not a message' }
    expect(() => toMessage(input, 1000, now, newId)).toThrow(TypeError)
    expect(() => toMessage(input, 1000, now, newId)).toThrow(
      /message must serialise to an object with role, content and timestamp, but it is "not a message" once serialised/,
    )
  })

  it('refuses an own toJSON() whose object lacks role, content or timestamp', () => {
    for (const [json, problem] of [
      [{ content: 'x', timestamp: NOW }, /its role is undefined/],
      [{ role: 'user', content: 7, timestamp: NOW }, /its content is 7/],
      [{ role: 'user', content: 'x' }, /its timestamp is undefined/],
      [['user', 'x'], /it is an array/],
      [null, /it is null/],
    ] as const) {
      expect(() => toMessage({ role: 'user', content: 'x', toJSON: () => json }, 1000, now, newId)).toThrow(
        problem,
      )
    }
  })

  it('with noTimestamp, leaves a message without a timestamp as it is, flat or not', () => {
    for (const input of [
      { role: 'user', content: 'x' },
      { role: 'user', content: 'x', extra: 1 },
      { role: 'user', content: 'x', nested: { a: [1] } },
    ]) {
      const { message, bytes } = toMessage(input, 1000, noTimestamp, newId)
      expect(message).toStrictEqual({ ...input, id: ID })
      expect(bytes).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(message)))
    }
    const stamped = { role: 'user', content: 'x', timestamp: NOW }
    expect(toMessage(stamped, 1000, noTimestamp, newId).message).toStrictEqual({ ...stamped, id: ID })
  })

  it('keeps what an own toJSON() serialises when it is a message, and counts its bytes', () => {
    const serialised = { role: 'assistant', content: 'from toJSON', timestamp: NOW, extra: 1 }
    const { message, bytes } = toMessage(
      { role: 'user', content: 'x', toJSON: () => serialised },
      1000,
      now,
      newId,
    )
    expect(message).toStrictEqual({ ...serialised, id: ID })
    expect(bytes).toBe(Buffer.byteLength(JSON.stringify(serialised)))
  })

  it('reports bytes never below the JSON size, and the exact size for a large message', () => {
    for (const content of ['short', '\u0001"\\'.repeat(10), 'é'.repeat(3000), 'x'.repeat(100_000)]) {
      const input = { role: 'user', content, n: 1 }
      const exact = Buffer.byteLength(JSON.stringify({ ...input, timestamp: NOW, id: ID }))
      const { bytes } = toMessage(input, 1_048_576, now, newId)
      expect(bytes).toBeGreaterThanOrEqual(exact)
      if (exact > 4096) expect(bytes).toBe(exact)
    }
  })

  it('counts a { role, content } message as any other flat message with the same fields', () => {
    // The bound of the common shape, computed at once, is the one the field-by-field walk gives
    // (here for the same fields in another order).
    for (const content of ['', 'short', 'é'.repeat(300), '🚀"'.repeat(100)]) {
      const common = toMessage({ role: 'assistant', content }, 1_048_576, now, newId)
      const reordered = toMessage({ content, role: 'assistant' }, 1_048_576, now, newId)
      expect(common.bytes).toBe(reordered.bytes)
      expect(Object.keys(common.message)).toEqual(['role', 'content', 'timestamp', 'id'])
      expect(common.message).toStrictEqual({ role: 'assistant', content, timestamp: NOW, id: ID })
    }
  })

  it('messageProblem is the one rule for a stored message', () => {
    expect(messageProblem({ role: 'user', content: '', timestamp: NOW })).toBeUndefined()
    expect(messageProblem({ role: 'user', content: 'x', timestamp: NOW, extra: [1] })).toBeUndefined()
    expect(messageProblem('text')).toBe('it is "text"')
    expect(messageProblem({ role: '', content: 'x', timestamp: NOW })).toBe('its role is ""')
    // As the Python bot may write it, and migrate() copies it: no timestamp, or one that is no
    // string (epoch seconds), is no problem...
    expect(messageProblem({ role: 'user', content: 'x' })).toBeUndefined()
    expect(messageProblem({ role: 'user', content: 'x', timestamp: 5 })).toBeUndefined()
    // ...except where the store stamps the message itself.
    expect(messageProblem({ role: 'user', content: 'x' }, 'required')).toBe('its timestamp is undefined')
    expect(messageProblem({ role: 'user', content: 'x', timestamp: 5 }, 'required')).toBe(
      'its timestamp is 5',
    )
    expect(messageProblem([])).toBe('it is an array')
  })
})

describe('isoNow', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('gives the ISO time of the current millisecond, reformatted when the clock moves', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2025-10-12T09:15:02.123Z'))
    expect(isoNow()).toBe('2025-10-12T09:15:02.123Z')
    expect(isoNow()).toBe('2025-10-12T09:15:02.123Z')
    vi.setSystemTime(new Date('2025-10-12T09:15:02.124Z'))
    expect(isoNow()).toBe('2025-10-12T09:15:02.124Z')
    // A clock set back (NTP) is followed too, not held at the latest value seen.
    vi.setSystemTime(new Date('2025-10-12T09:15:01.000Z'))
    expect(isoNow()).toBe('2025-10-12T09:15:01.000Z')
  })

  it('follows the real clock', () => {
    const before = Date.now()
    const at = Date.parse(isoNow())
    expect(at).toBeGreaterThanOrEqual(before)
    expect(at).toBeLessThanOrEqual(Date.now())
  })
})

describe('ids with a lone surrogate', () => {
  it('a conversation id or message id cut in the middle of a character is refused, naming where; whole characters are fine', () => {
    expect(() => conversationKey('\uD800')).toThrow(
      /id must be well-formed Unicode, got a lone surrogate \(\\uD800\) at index 0: SQLite and Redis store ids as UTF-8/,
    )
    expect(() => conversationKey('ab\uDC00')).toThrow(/lone surrogate \(\\uDC00\) at index 2/)
    expect(() => checkMessageId('reply-\uD83D', 'message.id')).toThrow(
      /message.id must be well-formed Unicode, got a lone surrogate \(\\uD83D\) at index 6/,
    )
    expect(conversationKey('chat 😀')).toBe('chat 😀')
    expect(checkMessageId('😀', 'message.id')).toBe('😀')
  })

  it('add(), upsert() and remove() refuse them before anything is written', async () => {
    const memory = await openMemory({ backend: memoryBackend() })
    await expect(memory.add('\uD800', { role: 'user', content: 'x' })).rejects.toThrow(RangeError)
    await expect(memory.add('c', { role: 'user', content: 'x', id: '\uDFFF' })).rejects.toThrow(
      /message.id must be well-formed/,
    )
    await expect(memory.remove('c', '\uD800')).rejects.toThrow(/messageId must be well-formed/)
    expect((await memory.stats()).messages).toBe(0)
    await memory.close()
  })
})
