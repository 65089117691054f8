import { describe, expect, it } from 'vitest'
import { checkArrayOfObjects, JsonCheckError, jsonError } from '../../../src/backends/file/json-check.js'

/** What the check says of `text`, as `JSON.parse` would be asked: accepted with its shape, or not. */
function check(text: string): { count: number; last: unknown } | undefined {
  const bytes = Buffer.from(text)
  let start = 0
  while (start < bytes.length && ' \t\r\n'.includes(String.fromCharCode(bytes[start] as number))) start++
  try {
    const shape = checkArrayOfObjects(bytes, start, bytes.length)
    if (bytes.subarray(shape.end).toString().trim() !== '') return undefined
    const last =
      shape.count === 0 ? undefined : JSON.parse(bytes.toString('utf8', shape.lastStart, shape.lastEnd))
    return { count: shape.count, last }
  } catch (error) {
    if (error instanceof JsonCheckError) return undefined
    throw error
  }
}

/** What `JSON.parse` says: an array of plain objects, or not. */
function reference(text: string): { count: number; last: unknown } | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(value)) return undefined
  if (!value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item)))
    return undefined
  return { count: value.length, last: value[value.length - 1] }
}

// A small deterministic generator: the same cases at every run.
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const sample = JSON.stringify(
  [
    {
      role: 'user',
      content: 'Ciao! "quoted" \\ back\nslash è 🙂 \u2028 \u0001',
      timestamp: '2025-01-01T10:00:00',
    },
    { role: 'assistant', content: '', n: -12.5e-3, big: 1e21, zero: 0, neg: -0, t: true, f: false, z: null },
    { nested: { a: [1, [2, [3, {}]], { b: [] }], s: '\\u' }, list: [], obj: {} },
  ],
  null,
  2,
)

// Bytes a damaged file tends to hold, and the ones the grammar turns on.
const interesting = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '\n',
  '\t',
  '\u0000',
  '0',
  '1',
  '-',
  '+',
  '.',
  'e',
  'E',
  'u',
  'a',
  'n',
  't',
  'f',
  '\u00e8',
  'x',
]

describe('checkArrayOfObjects', () => {
  it('accepts exactly what JSON.parse accepts as an array of objects, on thousands of damaged variants', () => {
    const random = generator(42)
    let accepted = 0
    let cases = 0
    for (let round = 0; round < 6000; round++) {
      let text = sample
      const edits = 1 + Math.floor(random() * 3)
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (text.length + 1))
        const kind = random()
        const piece = interesting[Math.floor(random() * interesting.length)] as string
        if (kind < 0.33) text = text.slice(0, at) + text.slice(at + 1)
        else if (kind < 0.66) text = text.slice(0, at) + piece + text.slice(at)
        else text = text.slice(0, at) + piece + text.slice(at + 1)
      }
      cases++
      const expected = reference(text)
      if (expected !== undefined) accepted++
      expect(check(text), text).toEqual(expected)
    }
    // Both sides were exercised: many variants stay valid JSON, most do not.
    expect(accepted).toBeGreaterThan(cases / 20)
    expect(accepted).toBeLessThan(cases / 2)
  })

  it('accepts every valid form of a number, string escape and literal, and refuses their near misses', () => {
    const valid = [
      '0',
      '-0',
      '12',
      '-12.5',
      '1e5',
      '1E+5',
      '1e-05',
      '0.0',
      '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e8\\uD83D"',
      'true',
      'false',
      'null',
    ]
    const invalid = [
      '01',
      '-',
      '1.',
      '.5',
      '+1',
      '1e',
      '1e+',
      '"\\x"',
      '"\\u12"',
      '"\\u12G4"',
      'tru',
      'nul',
      'True',
      '"a\u0001"',
      '"a\nb"',
      'NaN',
      'Infinity',
      '0x10',
    ]
    for (const value of valid) {
      const text = `[{"v": ${value}}, {"w": [${value}]}]`
      expect(check(text), text).toEqual(reference(text))
      expect(check(text), text).toBeDefined()
    }
    for (const value of invalid) {
      const text = `[{"v": ${value}}]`
      expect(reference(text), text).toBeUndefined()
      expect(check(text), text).toBeUndefined()
    }
  })

  it('finds a quote, backslash or control character at every position of a long string, whatever the alignment', () => {
    // String bodies are read a word at a time: every place a special byte can fall in a word.
    for (const special of ['\u0001', '\u001f', '\n', '"', '\\n', '\\u00e8', '\\q']) {
      for (let at = 0; at < 12; at++) {
        for (let shift = 0; shift < 4; shift++) {
          const body = `${'abcdè'.repeat(3).slice(0, at)}${special}${'xyz'.repeat(4)}`
          const text = `[{"c": "${body}"}]`
          const memory = Buffer.alloc(Buffer.byteLength(text) + 8)
          const bytes = memory.subarray(shift, shift + Buffer.byteLength(text))
          bytes.write(text)
          let ours: number | undefined
          try {
            ours = checkArrayOfObjects(bytes, 0, bytes.length).count
          } catch (error) {
            if (!(error instanceof JsonCheckError)) throw error
          }
          expect(ours, `${JSON.stringify(text)} at shift ${shift}`).toEqual(reference(text)?.count)
        }
      }
    }
  })

  it('says where the array ends and where it can be cut into groups', () => {
    const text = '[{"a": 1}, {"b": "x,y"}, {"c": [1, 2]}] trailing'
    const shape = checkArrayOfObjects(Buffer.from(text), 0, text.length, 5)
    expect(shape.end).toBe(text.lastIndexOf(']') + 1)
    expect(shape.count).toBe(3)
    expect(text.slice(shape.lastStart, shape.lastEnd)).toBe('{"c": [1, 2]}')
    // A comma at depth 1 wherever a group has reached 5 bytes; none inside strings or values.
    expect(shape.cuts.map((cut) => text[cut])).toEqual([',', ','])
    expect(shape.cuts).toEqual([text.indexOf(', {"b"'), text.indexOf(', {"c"')])
  })

  it('refuses an array that goes on past the bytes it is given, at their end', () => {
    const text = '[{"a": 1}, {"b": 2}]'
    for (let limit = 1; limit < text.length; limit++) {
      expect(() => checkArrayOfObjects(Buffer.from(text), 0, limit), `limit ${limit}`).toThrow(JsonCheckError)
    }
  })
})

describe('jsonError', () => {
  it('finds a fault exactly where JSON.parse refuses, at a byte inside the text, on thousands of damaged variants', () => {
    const random = generator(7)
    let refused = 0
    for (let round = 0; round < 3000; round++) {
      let text = sample
      const at = Math.floor(random() * (text.length + 1))
      const piece = interesting[Math.floor(random() * interesting.length)] as string
      text =
        random() < 0.5 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + text.slice(at + 1)
      const bytes = Buffer.from(text)
      let parses = true
      try {
        JSON.parse(text)
      } catch {
        parses = false
      }
      const found = jsonError(bytes, 0, bytes.length)
      expect(found === undefined, text).toBe(parses)
      if (found === undefined) continue
      refused++
      expect(found.at, text).toBeGreaterThanOrEqual(0)
      expect(found.at, text).toBeLessThanOrEqual(bytes.length)
      // One statement of its own: no excerpt of the text, no second position.
      expect(found.reason, text).not.toMatch(/JSON at position|is not valid JSON|\.\.\./)
    }
    expect(refused).toBeGreaterThan(1000)
  })

  it('says what was expected and what was found, once', () => {
    const text = '[{"role":"user","content":"a"},}'
    expect(jsonError(Buffer.from(text), 0, text.length)).toEqual(
      new JsonCheckError('expected a value, found "}"', text.length - 1),
    )
    const control = '[{"a": 1\u0001}]'
    expect(jsonError(Buffer.from(control), 0, control.length)?.reason).toBe(
      'expected "," or "}", found the control character 0x01',
    )
  })
})
