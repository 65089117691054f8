import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DeferredConversation } from '../../../src/backends/file/deferred-conversation.js'
import { type SnapshotData, SnapshotFormatError } from '../../../src/backends/file/legacy-format.js'
import { SnapshotParser } from '../../../src/backends/file/snapshot-parser.js'
import type { Message } from '../../../src/message.js'

/**
 * The two ways the parser reads conversations: parsed as read (the compaction worker), or checked
 * and kept as bytes to be parsed when used (opening a store). Every test here runs on both.
 */
type Mode = 'parsed' | 'deferred'
let mode: Mode = 'parsed'

function newParser(): SnapshotParser {
  return new SnapshotParser({ defer: mode === 'deferred' })
}

/** Ends the input and parses what the parser kept as bytes, so both modes give the same data. */
function finish(parser: SnapshotParser): SnapshotData {
  if (mode === 'parsed') return parser.end()
  const data = parser.endDeferred()
  const conversations = new Map<string, Message[]>()
  for (const [id, stored] of data.conversations) {
    conversations.set(id, stored instanceof DeferredConversation ? stored.parse() : stored)
  }
  return { ...data, conversations }
}

/** Parses `bytes` pushed in pieces of `size` (the last one shorter). */
function parseInPieces(bytes: Buffer, size: number): SnapshotData {
  const parser = newParser()
  for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size))
  return finish(parser)
}

/** What a whole-file JSON.parse gives, for comparison (order aside: see the order test). */
function reference(text: string): {
  conversations: Record<string, unknown>
  extras: Record<string, unknown>
} {
  const top = JSON.parse(text) as Record<string, unknown>
  const extras: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(top)) {
    if (key !== 'conversations' && key !== 'last_updated' && key !== 'taurobot_memory') extras[key] = value
  }
  return { conversations: top.conversations as Record<string, unknown>, extras }
}

function asPlain(data: SnapshotData): {
  conversations: Record<string, unknown>
  extras: Record<string, unknown>
} {
  const conversations: Record<string, unknown> = {}
  for (const [id, list] of data.conversations)
    Object.defineProperty(conversations, id, { value: list, enumerable: true })
  const extras: Record<string, unknown> = {}
  for (const [key, value] of data.extras) Object.defineProperty(extras, key, { value, enumerable: true })
  return { conversations, extras }
}

/** The Python bot's `ensure_ascii=True`: every non-ASCII character as \uXXXX (pairs above U+FFFF). */
function ensureAscii(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const tricky = [
  'plain',
  'braces { } [ ] and "quotes" inside',
  'a backslash at the end \\',
  'escaped quote then brace \\"}',
  '\\\\"',
  'unicode è à 🙂 and \u2028 line separator',
  'control \n\t\r\b\f and \u0001',
  '"',
  '',
]

function trickyDocument(
  ids = ['__proto__', 'id with "quotes"', 'ünï 🙂', '{[', '\\', 'constructor', '-100123', 'a,b:c'],
): Record<string, unknown> {
  const conversations: Record<string, unknown> = {}
  for (const [n, id] of ids.entries()) {
    Object.defineProperty(conversations, id, {
      enumerable: true,
      value: tricky.map((content, i) => ({
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `${content}${n}`,
        timestamp: `2026-12-04T10:00:0${i}.000000`,
        extra: { nested: [content, { deeper: [[], {}] }], n: -1.5e3, ok: true, none: null },
      })),
    })
  }
  return {
    version: 3,
    conversations,
    last_updated: '2026-12-04T10:00:00',
    settings: { nested: ['x', { y: '}' }] },
    __proto__extra: [1, 2, 3],
    flag: false,
    nothing: null,
    text: 'a "string" }',
  }
}

describe.each(['parsed', 'deferred'] as const)('SnapshotParser, conversations %s', (current) => {
  beforeAll(() => {
    mode = current
  })
  const doc = trickyDocument()
  const variants = {
    'indent 2, non-ASCII as is': JSON.stringify(doc, null, 2),
    'compact, non-ASCII as is': JSON.stringify(doc),
    'indent 2, ensure_ascii': ensureAscii(JSON.stringify(doc, null, 2)),
    'Python separators, tabs and CRLF': JSON.stringify(doc, null, '\t').replaceAll('\n', '\r\n'),
  }

  for (const [name, text] of Object.entries(variants)) {
    it(`reads ${name} exactly as JSON.parse does, whatever the piece size`, () => {
      const bytes = Buffer.from(text)
      const expected = reference(text)
      for (const size of [1, 2, 3, 7, 64, 1000, bytes.length]) {
        expect(asPlain(parseInPieces(bytes, size)), `pieces of ${size}`).toEqual(expected)
      }
    })
  }

  it('keeps "__proto__" as an ordinary conversation and extra', () => {
    const text = '{"conversations": {"__proto__": [{"role": "user", "content": "x"}]}, "__proto__": {"a": 1}}'
    const data = parseInPieces(Buffer.from(text), 5)
    expect(data.conversations.get('__proto__')).toEqual([{ role: 'user', content: 'x' }])
    expect(data.extras).toEqual([['__proto__', { a: 1 }]])
    expect(Object.getPrototypeOf(data.conversations.get('__proto__')?.[0])).toBe(Object.prototype)
  })

  it('keeps the file order of conversations, numeric ids included; a repeated id keeps its last value', () => {
    const text =
      '{"conversations": {"b": [], "200": [{"n": 1}], "10": [], "b": [{"n": 2}]}, "taurobot_memory": {"seq": 7}}'
    const data = parseInPieces(Buffer.from(text), 4)
    expect([...data.conversations.keys()]).toEqual(['b', '200', '10'])
    expect(data.conversations.get('b')).toEqual([{ n: 2 }])
    expect(data.seq).toBe(7)
  })

  it('reads keys in any order: conversations last, extras first', () => {
    const text = '{"z": 1, "taurobot_memory": {"seq": 3}, "last_updated": "x", "conversations": {"a": [{}]}}'
    const data = parseInPieces(Buffer.from(text), 3)
    expect(data.extras).toEqual([['z', 1]])
    expect(data.seq).toBe(3)
    expect(data.conversations.get('a')).toEqual([{}])
  })

  it('parses a long conversation in groups, across pieces, with every message in order', () => {
    const messages = Array.from({ length: 5000 }, (_, i) => ({
      role: 'user',
      content: `message ${i} with a quote " a brace } a bracket ] and a backslash \\ è 🙂`,
      timestamp: `t${i}`,
    }))
    const text = JSON.stringify({ conversations: { long: messages, short: [messages[0]] } }, null, 2)
    for (const size of [997, 32 * 1024 + 1, 1 << 20]) {
      const data = parseInPieces(Buffer.from(text), size)
      expect(data.conversations.get('long')).toEqual(messages)
      expect(data.conversations.get('short')).toEqual([messages[0]])
    }
  })

  it('rejects a trailing comma even where a long conversation is cut into groups', () => {
    const messages = Array.from({ length: 3000 }, (_, i) => ({ content: `m${i}` }))
    const json = JSON.stringify({ conversations: { long: messages } })
    // A comma before every position of the final "]" in turn exercises cuts and the last group.
    const broken = json.replace(/}\]}}$/, '},]}}')
    expect(() => parseInPieces(Buffer.from(broken), 4096)).toThrow(SnapshotFormatError)
    const spaced = json.replace(/}\]}}$/, `}, ${' '.repeat(40_000)}]}}`)
    expect(() => parseInPieces(Buffer.from(spaced), 4096)).toThrow(SnapshotFormatError)
    const leading = json.replace('{"long":[', `{"long":[${' '.repeat(40_000)},`)
    expect(() => parseInPieces(Buffer.from(leading), 4096)).toThrow(SnapshotFormatError)
  })

  it('rejects every truncation of a snapshot, wherever the file ends', () => {
    const text = Buffer.from(JSON.stringify(trickyDocument(['__proto__', 'ü"{']), null, 1))
    for (let end = 0; end < text.length; end++) {
      // Whitespace after the closing brace is all that may be cut.
      if (text.subarray(end).toString().trim() === '') continue
      expect(() => parseInPieces(text.subarray(0, end), 97), `ends at ${end}`).toThrow(SnapshotFormatError)
    }
  })

  it.each([
    ['an empty file', ''],
    ['whitespace only', ' \n'],
    ['a byte-order mark after whitespace', ' \ufeff{"conversations": {}}'],
    ['two byte-order marks', '\ufeff\ufeff{"conversations": {}}'],
    ['a byte-order mark alone', '\ufeff'],
    ['an array', '[]'],
    ['no conversations', '{"last_updated": "x"}'],
    ['conversations as an array', '{"conversations": []}'],
    ['conversations as a string', '{"conversations": "{}"}'],
    ['a conversation that is an object', '{"conversations": {"a": {}}}'],
    ['a message that is a string', '{"conversations": {"a": ["hi"]}}'],
    ['a message that is an array', '{"conversations": {"a": [[]]}}'],
    ['a bad sequence number', '{"conversations": {}, "taurobot_memory": {"seq": "1"}}'],
    ['a negative sequence number', '{"conversations": {}, "taurobot_memory": {"seq": -5}}'],
    [
      'a sequence number with no room to grow',
      `{"conversations": {}, "taurobot_memory": {"seq": ${2 ** 53 - 1}}}`,
    ],
    ['a sequence number past 2^52', `{"conversations": {}, "taurobot_memory": {"seq": ${2 ** 52 + 1}}}`],
    ['data after the end', '{"conversations": {}} {}'],
    ['a missing comma', '{"conversations": {"a": [] "b": []}}'],
    ['a missing colon', '{"conversations" {}}'],
    ['a bad escape in a message', '{"conversations": {"a": [{"c": "\\x"}]}}'],
    ['a raw newline in a string', '{"conversations": {"a": [{"c": "a\nb"}]}}'],
    ['a bad escape in an id', '{"conversations": {"\\q": []}}'],
    ['mismatched brackets', '{"conversations": {"a": [{"c": 1]}}}'],
    ['a bad literal', '{"conversations": {}, "x": tru}'],
    ['a trailing comma in conversations', '{"conversations": {"a": [],}}'],
    ['a trailing comma at the top', '{"conversations": {},}'],
    ['an unquoted key', '{conversations: {}}'],
  ])('rejects %s', (_name, text) => {
    for (const size of [1, 5, 1 << 20]) {
      expect(() => parseInPieces(Buffer.from(text), size)).toThrow(SnapshotFormatError)
    }
  })

  /** Where `marker` starts in `text`, plus `plus`, in bytes. */
  function byteOf(text: string, marker: string, plus = 0): number {
    return Buffer.byteLength(text.slice(0, text.indexOf(marker))) + plus
  }

  it.each<[string, string, (text: string) => string]>([
    [
      'a comma before "}" in a conversation',
      '{"conversations":{"1":[{"role":"user","content":"a","timestamp":"x"},}}',
      () => 'not valid JSON at byte 69: expected a value, found "}"',
    ],
    [
      'a missing comma between conversations',
      '{"conversations": {"a": [] "b": []}}',
      (t) => `not valid JSON at byte ${byteOf(t, '"b"')}: expected "," or "}", found "\\""`,
    ],
    [
      'a missing colon',
      '{"conversations" {}}',
      (t) => `not valid JSON at byte ${byteOf(t, ' {}', 1)}: expected ":", found "{"`,
    ],
    [
      'a bad escape in a message, after non-ASCII text',
      '{"conversations": {"a": [{"c": "è\\x"}]}}',
      (t) => `not valid JSON at byte ${byteOf(t, '\\x')}: a bad escape in a string`,
    ],
    [
      'a missing comma inside a message',
      '{"conversations": {"a": [{"c": "x" "d": 1}]}}',
      (t) => `not valid JSON at byte ${byteOf(t, '"d"')}: expected "," or "}", found "\\""`,
    ],
    [
      'data after the end',
      '{"conversations": {}} {}',
      (t) => `not valid JSON at byte ${byteOf(t, '} {', 2)}: data after the end of the JSON`,
    ],
    [
      'an unquoted key',
      '{conversations: {}}',
      () => 'not valid JSON at byte 1: expected a property name in quotes or "}", found "c"',
    ],
    [
      'a misspelt literal',
      '{"conversations": {}, "x": tru}',
      (t) =>
        `not valid JSON at byte ${byteOf(t, 'tru')}: an unknown word; JSON knows only true, false and null`,
    ],
    [
      'a key whose opening quote is lost',
      '{"conversations": {"a": [{"role": "user", Xcontent": "hi"}, {"role": "bot", "content": "ok"}]}}',
      (t) => `not valid JSON at byte ${byteOf(t, 'Xcontent')}: expected a property name in quotes, found "X"`,
    ],
    [
      'a value whose closing quote is lost',
      '{"conversations": {"a": [{"role": "user", "content": "hi}, {"role": "bot", "content": "ok"}]}}',
      // The string runs on to the next quote; the byte after it is where JSON.parse stops too.
      (t) => `not valid JSON at byte ${byteOf(t, 'role": "bot')}: expected "," or "}", found "r"`,
    ],
    [
      'a file cut short',
      '{"conversations": {"a": [{"c": "x',
      (t) => `not valid JSON at byte ${t.length}: the file ends in the middle of a value`,
    ],
    ['an empty file', '', () => 'the file is empty'],
  ])('names the one byte where %s is', (_name, text, expected) => {
    for (const size of [1, 5, 1 << 20]) {
      let message: string | undefined
      try {
        parseInPieces(Buffer.from(text), size)
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error
        message = error.message
      }
      expect(message, `pieces of ${size}`).toBe(expected(text))
    }
  })

  it('names the comma before "]" where it ends a group of a conversation parsed in groups', () => {
    // One message past the size of a group: the comma after it is where the array is cut.
    const broken = JSON.stringify({ conversations: { long: [{ c: 'x'.repeat(40_000) }] } }).replace(
      /}\]}}$/,
      '},]}}',
    )
    for (const size of [4096, 1 << 20]) {
      expect(() => parseInPieces(Buffer.from(broken), size)).toThrow(
        `not valid JSON at byte ${broken.indexOf(',]')}: a comma before "]"`,
      )
    }
  })

  it('accepts a UTF-8 byte-order mark before the JSON, whatever the piece size', () => {
    const text = `\ufeff${JSON.stringify(trickyDocument(), null, 2)}`
    const expected = reference(text.slice(1))
    for (const size of [1, 2, 3, 4, 64, text.length]) {
      expect(asPlain(parseInPieces(Buffer.from(text), size)), `pieces of ${size}`).toEqual(expected)
    }
  })

  it('accepts sequence numbers from 0 to 2^52', () => {
    for (const seq of [0, 1, 2 ** 52]) {
      const text = `{"conversations": {}, "taurobot_memory": {"seq": ${seq}}}`
      expect(parseInPieces(Buffer.from(text), 3).seq).toBe(seq)
    }
  })

  it('reports the file offset of the first byte that is not UTF-8, read as U+FFFD', () => {
    const head = Buffer.from('{"conversations": {"a": [{"role": "user", "content": "ok ')
    const tail = Buffer.from(' è", "timestamp": "t"}]}}')
    const bytes = Buffer.concat([head, Buffer.from([0xc3, 0x28]), tail])
    for (const size of [1, 7, bytes.length]) {
      const parser = newParser()
      for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size))
      const data = finish(parser)
      expect(parser.invalidUtf8At, `pieces of ${size}`).toBe(head.length)
      expect(data.conversations.get('a')?.[0]?.content).toBe('ok \ufffd( è')
    }
    const clean = newParser()
    clean.push(Buffer.from('{"conversations": {"a": [{"content": "è 🙂"}]}}'))
    finish(clean)
    expect(clean.invalidUtf8At).toBe(-1)
  })

  it('accepts the smallest snapshot and keeps a duplicate top-level field last', () => {
    expect(parseInPieces(Buffer.from('{"conversations":{}}'), 1).conversations.size).toBe(0)
    const data = parseInPieces(
      Buffer.from('{"x": 1, "conversations": {"a": [{}]}, "x": 2, "conversations": {}}'),
      2,
    )
    expect(data.conversations.size).toBe(0)
    expect(data.extras).toEqual([['x', 2]])
  })
})

describe('SnapshotParser, conversations deferred: read buffers', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('allocates a few times the file in all when one conversation spans many pieces, not once per piece', () => {
    const messages = Array.from({ length: 2000 }, (_, i) => ({ role: 'user', content: `message ${i}` }))
    const bytes = Buffer.from(JSON.stringify({ conversations: { a: [{}], long: messages, b: [] } }))
    const allocate = vi.spyOn(Buffer, 'allocUnsafe')
    // Pieces of 1 KB: the long conversation spans about 60 of them.
    const parser = new SnapshotParser({ defer: true })
    for (let at = 0; at < bytes.length; at += 1024) parser.push(bytes.subarray(at, at + 1024))
    const data = parser.endDeferred()
    const allocated = allocate.mock.calls.reduce((sum, [size]) => sum + size, 0)
    expect(allocated).toBeLessThan(4 * bytes.length)
    const long = data.conversations.get('long')
    expect(long instanceof DeferredConversation ? long.parse() : long).toEqual(messages)
  })
})

describe('SnapshotParser, conversations deferred: pieces read into buffers of their own', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /**
   * Feeds `bytes` through take(), each piece of `size` in a buffer of its own after `room` bytes
   * left free, as a reader that reads the next piece while this one is parsed does.
   */
  function takeInPieces(bytes: Buffer, size: number, room: number): SnapshotParser {
    const parser = new SnapshotParser({ defer: true })
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, at + size)
      const buffer = Buffer.alloc(room + piece.length)
      piece.copy(buffer, room)
      parser.take(buffer, room, piece.length, bytes.length - at - piece.length)
    }
    return parser
  }

  /** The snapshot, every conversation kept as bytes parsed. */
  function parsed(parser: SnapshotParser): SnapshotData {
    const data = parser.endDeferred()
    const conversations = new Map<string, Message[]>()
    for (const [id, stored] of data.conversations) {
      conversations.set(id, stored instanceof DeferredConversation ? stored.parse() : stored)
    }
    return { ...data, conversations }
  }

  const doc = trickyDocument()
  const text = JSON.stringify(doc, null, 2)

  it('reads a snapshot exactly as JSON.parse does, whatever the piece size and the room before it', () => {
    const bytes = Buffer.from(text)
    const expected = reference(text)
    for (const size of [1, 7, 64, 1000, bytes.length]) {
      for (const room of [0, 3, 100, 4096]) {
        const data = parsed(takeInPieces(bytes, size, room))
        expect(asPlain(data), `pieces of ${size}, ${room} bytes of room`).toEqual(expected)
      }
    }
  })

  it('moves a tail shorter than the room before a piece there: no buffer of its own, no copy of the piece', () => {
    const bytes = Buffer.from(text)
    const allocate = vi.spyOn(Buffer, 'allocUnsafe')
    // The longest conversation is under 4 KB.
    const parser = takeInPieces(bytes, 1024, 4096)
    expect(allocate).not.toHaveBeenCalled()
    expect(parser.longestTailBytes).toBeGreaterThan(0)
    expect(parser.longestTailBytes).toBeLessThanOrEqual(4096)
    expect(asPlain(parsed(parser))).toEqual(reference(text))
  })

  it('copies a tail longer than the room with its piece, a few times the file in all when one conversation spans many pieces', () => {
    const messages = Array.from({ length: 2000 }, (_, i) => ({ role: 'user', content: `message ${i}` }))
    const bytes = Buffer.from(JSON.stringify({ conversations: { a: [{}], long: messages, b: [] } }))
    const allocate = vi.spyOn(Buffer, 'allocUnsafe')
    // Pieces of 1 KB with 64 bytes of room: the long conversation spans about 60 of them.
    const parser = takeInPieces(bytes, 1024, 64)
    const allocated = allocate.mock.calls.reduce((sum, [size]) => sum + size, 0)
    expect(allocated).toBeGreaterThan(0)
    expect(allocated).toBeLessThan(4 * bytes.length)
    expect(parser.longestTailBytes).toBeGreaterThan(bytes.length / 2)
    expect(parsed(parser).conversations).toEqual(
      new Map<string, unknown>([
        ['a', [{}]],
        ['long', messages],
        ['b', []],
      ]),
    )
  })
})

describe('SnapshotParser, conversations deferred: damage', () => {
  /** What a parser says of `bytes` read in pieces of 64 KiB: the error message, or none. */
  function refusal(bytes: Buffer, defer: boolean): string | undefined {
    const parser = new SnapshotParser({ defer })
    try {
      for (let at = 0; at < bytes.length; at += 65_536) parser.push(bytes.subarray(at, at + 65_536))
      if (defer) parser.endDeferred()
      else parser.end()
      return undefined
    } catch (error) {
      if (!(error instanceof SnapshotFormatError)) throw error
      return error.message
    }
  }

  it('refuses a damaged conversation longer than a group with the message of a parser without defer', () => {
    const long = Array.from({ length: 800 }, (_, i) => ({
      role: 'user',
      content: `message ${i} ${'x'.repeat(100)} è`,
      timestamp: `t${i}`,
    }))
    const good = JSON.stringify({ conversations: { a: [{ role: 'user' }], long } }, null, 2)
    // Past the first group of the long conversation: a raw control character, a stray comma, a
    // missing quote; then each of them in a file also cut short before the conversation ends.
    const at = good.indexOf('message 500 ')
    const damaged = [
      `${good.slice(0, at)}\u0001${good.slice(at)}`,
      `${good.slice(0, at - 1)},${good.slice(at - 1)}`,
      `${good.slice(0, at - 1)}${good.slice(at)}`,
    ]
    for (const text of [...damaged, ...damaged.map((whole) => whole.slice(0, at + 20_000))]) {
      const bytes = Buffer.from(text)
      const expected = refusal(bytes, false)
      expect(expected).toBeDefined()
      expect(refusal(bytes, true)).toBe(expected)
    }
  })
})
