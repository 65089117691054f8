// Checks JSON text in place, byte by byte, without building any value: opening a large snapshot
// checks every conversation this way and parses one only when it is first used.

/** Why bytes are not valid JSON; `at` is the offset of the offending byte in the buffer. */
export class JsonCheckError extends Error {
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {
    super(reason)
  }
}

/** Where the elements of a checked array are. */
export interface ArrayShape {
  /** The offset after its closing bracket. */
  end: number
  /** Number of elements. */
  count: number
  /** Offsets of the last element's first byte and of the byte after it; both -1 when empty. */
  lastStart: number
  lastEnd: number
  /**
   * Offsets of commas between elements that split the array into groups of at least `groupBytes`
   * (see {@link checkArrayOfObjects}), in order.
   */
  cuts: number[]
}

const SPACE = new Uint8Array(256)
SPACE[0x20] = 1
SPACE[0x0a] = 1
SPACE[0x0d] = 1
SPACE[0x09] = 1

// Characters allowed after a backslash, `u` (four hex digits follow) aside.
const ESCAPE = new Uint8Array(256)
for (const c of '"\\/bfnrt') ESCAPE[c.charCodeAt(0)] = 1

const HEX = new Uint8Array(256)
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1

// Bytes that end a run of plain string text: the quote, the backslash, control characters.
const STRING_STOP = new Uint8Array(256)
for (let byte = 0; byte < 0x20; byte++) STRING_STOP[byte] = 1
STRING_STOP[0x22] = 1
STRING_STOP[0x5c] = 1

const IN_ARRAY = 1
const IN_OBJECT = 2

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39
}

/**
 * Checks that `buffer` holds one JSON array at `start` (no whitespace before it), ending before
 * `limit`, whose elements are all objects, with the grammar `JSON.parse` applies (strings without
 * raw control characters, valid escapes, numbers, literals; whitespace around tokens), and returns
 * where it ends and where its elements are. Bytes of 0x80 and above are accepted inside strings as
 * they are: whether they are UTF-8 is checked apart. The commas where the array can be cut into
 * groups of at least `groupBytes` are returned in `cuts`. Throws {@link JsonCheckError} at the first
 * byte that is wrong, or at `limit` when the array goes on past it.
 */
export function checkArrayOfObjects(
  buffer: Uint8Array,
  start: number,
  limit: number,
  groupBytes = Number.POSITIVE_INFINITY,
): ArrayShape {
  const end = limit
  viewWords(buffer)
  let i = start
  if (buffer[i] !== 0x5b) throw new JsonCheckError('not an array', i)
  i = skipSpace(buffer, i + 1, end)
  const shape: ArrayShape = { end: -1, count: 0, lastStart: -1, lastEnd: -1, cuts: [] }
  let groupStart = start
  if (buffer[i] === 0x5d) {
    shape.end = i + 1
    return shape
  }
  for (;;) {
    if (i >= end) throw new JsonCheckError('the array ends too early', i)
    if (buffer[i] !== 0x7b) throw new JsonCheckError(`element ${shape.count} is not an object`, i)
    shape.lastStart = i
    i = checkValue(buffer, i, end)
    shape.lastEnd = i
    shape.count++
    i = skipSpace(buffer, i, end)
    const byte = buffer[i]
    if (i < end && byte === 0x2c) {
      if (i - groupStart >= groupBytes) {
        shape.cuts.push(i)
        groupStart = i
      }
      i = skipSpace(buffer, i + 1, end)
      continue
    }
    if (i >= end) throw new JsonCheckError('the array ends too early', i)
    if (byte !== 0x5d) throw new JsonCheckError('expected "," or "]"', i)
    shape.end = i + 1
    return shape
  }
}

function skipSpace(buffer: Uint8Array, at: number, end: number): number {
  let i = at
  while (i < end && SPACE[buffer[i] as number] === 1) i++
  return i
}

/** Checks the value starting at `at` (not whitespace); returns the offset after it. */
function checkValue(buffer: Uint8Array, at: number, end: number): number {
  // Open containers, innermost last: nesting costs no recursion, whatever its depth.
  const open: number[] = []
  let i = at
  for (;;) {
    i = skipSpace(buffer, i, end)
    if (i >= end) throw new JsonCheckError('a value ends too early', i)
    const byte = buffer[i] as number
    let opened = false
    if (byte === 0x7b) {
      i = skipSpace(buffer, i + 1, end)
      if (buffer[i] === 0x7d) i++
      else {
        open.push(IN_OBJECT)
        i = checkKey(buffer, i, end)
        opened = true
      }
    } else if (byte === 0x5b) {
      i = skipSpace(buffer, i + 1, end)
      if (buffer[i] === 0x5d) i++
      else {
        open.push(IN_ARRAY)
        opened = true
      }
    } else if (byte === 0x22) i = checkString(buffer, i + 1, end)
    else if (byte === 0x74) i = checkWord(buffer, i, end, 'true')
    else if (byte === 0x66) i = checkWord(buffer, i, end, 'false')
    else if (byte === 0x6e) i = checkWord(buffer, i, end, 'null')
    else i = checkNumber(buffer, i, end)
    if (opened) continue
    // After a value: close what ends here, then expect the next element or member.
    for (;;) {
      const inside = open[open.length - 1]
      if (inside === undefined) return i
      i = skipSpace(buffer, i, end)
      const next = buffer[i]
      if (next === 0x2c) {
        i = inside === IN_OBJECT ? checkKey(buffer, skipSpace(buffer, i + 1, end), end) : i + 1
        break
      }
      if ((inside === IN_ARRAY && next === 0x5d) || (inside === IN_OBJECT && next === 0x7d)) {
        open.pop()
        i++
        continue
      }
      throw new JsonCheckError(
        i >= end ? 'a value ends too early' : `expected "," or "${inside === IN_ARRAY ? ']' : '}'}"`,
        i,
      )
    }
  }
}

/** Checks `"key":` at `at`; returns the offset after the colon. */
function checkKey(buffer: Uint8Array, at: number, end: number): number {
  if (buffer[at] !== 0x22) throw new JsonCheckError('expected a property name in quotes', at)
  const i = skipSpace(buffer, checkString(buffer, at + 1, end), end)
  if (buffer[i] !== 0x3a) throw new JsonCheckError('expected ":"', i)
  return i + 1
}

// Text makes up most of a snapshot, so string bodies are read four bytes at a time where the
// buffer allows: an Int32Array over its memory, made once per buffer and set by each check.
let wordsOf: ArrayBufferLike | undefined
let words: Int32Array<ArrayBufferLike> = new Int32Array(0)

/** Makes `words` view the memory of `buffer`. */
function viewWords(buffer: Uint8Array): void {
  if (wordsOf === buffer.buffer) return
  wordsOf = buffer.buffer
  words = new Int32Array(buffer.buffer, 0, buffer.buffer.byteLength >> 2)
}

/**
 * The offset of the first byte at or after `at` (before `end`) that is a quote, a backslash or a
 * control character, or `end`. Word by word: a word holds such a byte exactly when one of three
 * bit tests finds a byte below 0x20, or a zero byte after XOR with the quote or the backslash (the
 * tests may also flag a word that holds none, which the byte loop then passes).
 */
function skipPlainText(buffer: Uint8Array, at: number, end: number): number {
  let i = at
  const base = buffer.byteOffset
  // Byte by byte up to a word boundary of the memory.
  while (i < end && ((base + i) & 3) !== 0) {
    if (STRING_STOP[buffer[i] as number] === 1) return i
    i++
  }
  const view = words
  while (i + 4 <= end) {
    const word = view[(base + i) >> 2] as number
    const quote = word ^ 0x22222222
    const backslash = word ^ 0x5c5c5c5c
    const flagged =
      ((word - 0x20202020) & ~word) |
      ((quote - 0x01010101) & ~quote) |
      ((backslash - 0x01010101) & ~backslash)
    if ((flagged & 0x80808080) !== 0) break
    i += 4
  }
  while (i < end && STRING_STOP[buffer[i] as number] === 0) i++
  return i
}

/** Checks a string body starting at `at` (after its quote); returns the offset after its closing quote. */
function checkString(buffer: Uint8Array, at: number, end: number): number {
  let i = at
  for (;;) {
    i = skipPlainText(buffer, i, end)
    if (i >= end) throw new JsonCheckError('unterminated string', i)
    const byte = buffer[i] as number
    if (byte === 0x22) return i + 1
    if (byte === 0x5c) {
      const escaped = buffer[i + 1] as number
      if (escaped === 0x75) {
        if (
          i + 6 > end ||
          HEX[buffer[i + 2] as number] !== 1 ||
          HEX[buffer[i + 3] as number] !== 1 ||
          HEX[buffer[i + 4] as number] !== 1 ||
          HEX[buffer[i + 5] as number] !== 1
        )
          throw new JsonCheckError('a bad \\u escape in a string', i)
        i += 6
        continue
      }
      if (i + 2 > end || ESCAPE[escaped] !== 1) throw new JsonCheckError('a bad escape in a string', i)
      i += 2
      continue
    }
    if (byte < 0x20) throw new JsonCheckError('a control character in a string', i)
    i++
  }
}

function checkWord(buffer: Uint8Array, at: number, end: number, word: string): number {
  for (let k = 0; k < word.length; k++) {
    if (at + k >= end) throw new JsonCheckError('a value ends too early', at)
    if (buffer[at + k] !== word.charCodeAt(k)) {
      throw new JsonCheckError('an unknown word; JSON knows only true, false and null', at)
    }
  }
  return at + word.length
}

function checkNumber(buffer: Uint8Array, at: number, end: number): number {
  let i = at
  if (i < end && buffer[i] === 0x2d) i++
  if (i < end && buffer[i] === 0x30) i++
  else if (i < end && isDigit(buffer[i]) && buffer[i] !== 0x30) {
    while (i < end && isDigit(buffer[i])) i++
  } else throw new JsonCheckError(i > at ? 'expected a digit' : 'expected a value', i)
  if (i < end && buffer[i] === 0x2e) {
    i++
    if (!(i < end && isDigit(buffer[i]))) throw new JsonCheckError('a number without digits after "."', i)
    while (i < end && isDigit(buffer[i])) i++
  }
  if (i < end && (buffer[i] === 0x65 || buffer[i] === 0x45)) {
    i++
    if (i < end && (buffer[i] === 0x2b || buffer[i] === 0x2d)) i++
    if (!(i < end && isDigit(buffer[i]))) throw new JsonCheckError('a number without an exponent', i)
    while (i < end && isDigit(buffer[i])) i++
  }
  return i
}

/**
 * The first thing wrong in the JSON value at `buffer[start..end)` (whitespace allowed around it),
 * or `undefined` when it is valid. For messages only, after `JSON.parse` refused the same bytes:
 * V8's message names a position in the decoded text and quotes the text around it, this one the
 * offending byte. An `expected ...` reason is completed with what was found there. The bytes up
 * to `limit` may be read past `end`: a scanner ends a misspelt literal such as `tru` at the next
 * delimiter, which then shows it misspelt rather than cut short.
 */
export function jsonError(
  buffer: Uint8Array,
  start: number,
  end: number,
  limit = buffer.length,
): JsonCheckError | undefined {
  viewWords(buffer)
  try {
    const value = checkValue(buffer, skipSpace(buffer, start, end), Math.max(end, limit))
    const i = skipSpace(buffer, value, end)
    if (i < end) throw new JsonCheckError('expected the end of the value', i)
    return undefined
  } catch (error) {
    if (!(error instanceof JsonCheckError)) throw error
    if (!error.reason.startsWith('expected') || error.at >= end) return error
    return new JsonCheckError(`${error.reason}, found ${showByte(buffer, error.at, end)}`, error.at)
  }
}

/** The character at `at` (before `end`), for a message: quoted, or its code when it is a control character. */
export function showByte(buffer: Uint8Array, at: number, end: number): string {
  const byte = buffer[at] as number
  if (byte < 0x20 || byte === 0x7f) return `the control character 0x${byte.toString(16).padStart(2, '0')}`
  const text = Buffer.from(buffer.buffer, buffer.byteOffset + at, Math.min(4, end - at)).toString('utf8')
  return JSON.stringify(String.fromCodePoint(text.codePointAt(0) as number))
}
