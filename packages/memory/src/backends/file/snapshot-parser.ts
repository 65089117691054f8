// Over 400 lines on purpose: one byte-level scanner that reads a snapshot of any size in pieces;
// its states (outside a value, inside a string, inside a conversation) belong together.
import type { Message } from '../../message.js'
import { DeferredConversation } from './deferred-conversation.js'
import { type ArrayShape, checkArrayOfObjects, JsonCheckError, jsonError, showByte } from './json-check.js'
import { MAX_SEQ, META_KEY, type SnapshotData, SnapshotFormatError } from './legacy-format.js'
import { firstInvalidUtf8 } from './utf8.js'

// Byte classes outside strings: what the value scanner stops at.
const OPEN = 1
const CLOSE = 2
const QUOTE = 3
const COMMA = 4
const CLASS = new Uint8Array(256)
CLASS[0x5b] = OPEN // [
CLASS[0x7b] = OPEN // {
CLASS[0x5d] = CLOSE // ]
CLASS[0x7d] = CLOSE // }
CLASS[0x22] = QUOTE // "
CLASS[0x2c] = COMMA // ,

// Bytes of a conversation parsed by one JSON.parse: small enough that the decoded text stays
// below V8's large-object size even when every character takes two bytes.
const GROUP_BYTES = 32 * 1024

const BACKSLASH = 0x5c
const DOUBLE_QUOTE = 0x22

function isSpace(byte: number): boolean {
  // JSON's whitespace, nothing more: a byte-order mark is accepted only as the file's first bytes.
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

/**
 * The index of the quote closing a string whose body starts at `from`, or -1 when it is not in
 * `buffer` yet. `indexOf` skips the text natively; a quote preceded by an odd run of backslashes
 * is escaped. The run never reaches past the opening quote, which is always in the buffer.
 */
function stringEnd(buffer: Buffer, from: number): number {
  let at = from
  for (;;) {
    const quote = buffer.indexOf(DOUBLE_QUOTE, at)
    if (quote < 0) return -1
    let before = quote - 1
    while (buffer[before] === BACKSLASH) before--
    if (((quote - 1 - before) & 1) === 0) return quote
    at = quote + 1
  }
}

function isDelimiter(byte: number): boolean {
  return isSpace(byte) || byte === 0x2c || byte === 0x7d || byte === 0x5d
}

type Step =
  | 'start'
  | 'first-key'
  | 'key'
  | 'colon'
  | 'value'
  | 'conversations-value'
  | 'after-value'
  | 'conversations-first-key'
  | 'conversations-key'
  | 'conversations-colon'
  | 'conversation'
  | 'conversations-after-value'
  | 'done'

/**
 * Reads a snapshot from its bytes, piece by piece, without ever holding the file as one string:
 * V8 strings stop at about 512 MB, and a store must always be able to open what it wrote. The
 * scanner only finds where each value ends (tracking strings, escapes and nesting); `JSON.parse`
 * then reads one conversation at a time, so the bytes it validates are the bytes a whole-file
 * `JSON.parse` would have seen, and a damaged file is rejected just the same.
 *
 * Conversations keep their file order; a repeated key keeps its first position and its last
 * value, as with `JSON.parse`.
 */
export class SnapshotParser {
  private buffer: Buffer = Buffer.alloc(0)
  // The buffer `buffer` is a view of, and the other one of the pair.
  private backing: Buffer = Buffer.alloc(0)
  private spare: Buffer = Buffer.alloc(0)
  // Next byte to read in `buffer`, and the file offset of `buffer[0]` (for messages).
  private pos = 0
  private base = 0
  private step: Step = 'start'
  private key = ''
  private conversationId = ''
  // A value being scanned: where it starts, where the scan resumes, its depth, inside a string.
  private valueStart = -1
  private scanPos = 0
  private depth = 0
  private inString = false
  private primitive = false
  // The array being parsed in groups, and whether it was cut at least once.
  private group: unknown[] | undefined
  private groupCut = false
  private sawConversations = false
  private conversations = new Map<string, Message[] | DeferredConversation>()
  private readonly extras = new Map<string, unknown>()
  private seq = 0
  private longestTail = 0
  /** File offset of the first byte that is not UTF-8 (read as U+FFFD), -1 if none so far. */
  invalidUtf8At = -1

  /**
   * With `defer`, each conversation is checked but kept as bytes, a {@link DeferredConversation},
   * and parsed when used: {@link endDeferred} then gives the snapshot. Without, {@link end}.
   */
  constructor(private readonly options: { defer?: boolean } = {}) {}

  /** Feeds the next bytes of the file (copied: `piece` may be reused by the caller). */
  push(piece: Uint8Array): void {
    const region = this.writable(piece.length)
    region.set(piece)
    this.commit(piece.length)
  }

  /**
   * A buffer of at least `min` bytes to read the next bytes of the file into, then passed to
   * {@link commit}. The unread tail is moved to the front of one of two alternating buffers, so
   * reading a large file neither allocates nor copies it piece after piece. With `defer`, buffers
   * are never reused (conversations kept as bytes are views of them), and `rest`, when known, is
   * how many bytes the file has left: no buffer is made larger than they need.
   */
  writable(min: number, rest = Number.POSITIVE_INFINITY): Buffer {
    const held = this.buffer.length
    const defer = this.options.defer === true
    // Deferred conversations are views of the buffers read: a byte once read is never written
    // again, so the next bytes go after it while the buffer has room.
    if (defer && this.backing.length - held >= min) return this.backing.subarray(held)
    const keepFrom = this.keepFrom()
    const kept = held - keepFrom
    let target = this.spare
    if (defer) {
      // Never reused, and room for half again what is kept: a conversation longer than many
      // pieces is then copied a few times in all, not once per piece.
      target = Buffer.allocUnsafe(kept + Math.max(min, Math.min(kept >>> 1, rest)))
    } else if (target.length < kept + min) target = Buffer.allocUnsafe(kept + min)
    this.buffer.copy(target, 0, keepFrom)
    this.moveTo(target, keepFrom)
    return target.subarray(kept)
  }

  /**
   * Parses the file's next `bytes` bytes, read by the caller into `piece` at `at`: unlike
   * {@link writable}, the caller chooses the buffer, so it can read the next piece while this one
   * is parsed. `piece` is the parser's from then on (with `defer`, conversations are views of it)
   * and `piece[0..at)` is room for the unread tail of the bytes before, most often the start of
   * one conversation: moved there, only it is copied. A longer tail is copied with the new bytes
   * into a buffer with room for half again what is kept, and the next pieces into that room while
   * it lasts, so a conversation spanning many pieces is copied a few times in all, not once per
   * piece. `rest`, when known, is how many bytes the file has left after these.
   */
  take(piece: Buffer, at: number, bytes: number, rest = Number.POSITIVE_INFINITY): void {
    const held = this.buffer.length
    const keepFrom = this.keepFrom()
    const kept = held - keepFrom
    if (kept <= at) {
      this.buffer.copy(piece, at - kept, keepFrom)
      this.moveTo(piece.subarray(at - kept), keepFrom)
    } else if (this.backing.length - held >= bytes) {
      piece.copy(this.backing, held, at, at + bytes)
    } else {
      const target = Buffer.allocUnsafe(kept + bytes + Math.min(kept >>> 1, rest))
      this.buffer.copy(target, 0, keepFrom)
      piece.copy(target, kept, at, at + bytes)
      this.moveTo(target, keepFrom)
    }
    this.commit(bytes)
    const tail = this.buffer.length - this.keepFrom()
    if (tail > this.longestTail) this.longestTail = tail
  }

  /**
   * The longest unread tail a piece given to {@link take} has left so far, to be moved before the
   * next piece's bytes: how much room the next pieces are worth reading after.
   */
  get longestTailBytes(): number {
    return this.longestTail
  }

  /** Where the bytes still needed start: the value being scanned, or the next token. */
  private keepFrom(): number {
    const held = this.buffer.length
    return this.step === 'done' ? held : this.valueStart >= 0 ? this.valueStart : this.pos
  }

  /** Makes `target` the buffer, its first bytes the ones kept from `keepFrom` on. */
  private moveTo(target: Buffer, keepFrom: number): void {
    const kept = this.buffer.length - keepFrom
    this.spare = this.backing
    this.backing = target
    this.buffer = target.subarray(0, kept)
    this.base += keepFrom
    this.pos -= keepFrom
    if (this.valueStart >= 0) {
      this.scanPos -= keepFrom
      this.valueStart -= keepFrom
    }
  }

  /** Parses the `bytes` just written into the buffer {@link writable} returned. */
  commit(bytes: number): void {
    const from = this.buffer.length
    this.buffer = this.backing.subarray(0, from + bytes)
    if (this.step === 'done') this.trailing(this.buffer, from)
    else this.run(false)
  }

  /** Ends the input; returns the snapshot, or throws {@link SnapshotFormatError}. */
  end(): SnapshotData {
    if (this.options.defer === true) throw new Error('a deferring parser ends with endDeferred()')
    return this.endDeferred() as SnapshotData
  }

  /** {@link end} for a parser made with `defer`: some conversations are still bytes. */
  endDeferred(): SnapshotData<Message[] | DeferredConversation> {
    if (this.step !== 'done') this.run(true)
    if (this.step !== 'done') {
      const bytes = this.buffer.length
      if (this.base + bytes === 0) throw new SnapshotFormatError('the file is empty')
      throw this.syntax('the file ends before the JSON does', bytes)
    }
    if (!this.sawConversations) throw new SnapshotFormatError('"conversations" is missing or not an object')
    return { conversations: this.conversations, extras: [...this.extras], seq: this.seq }
  }

  private run(final: boolean): void {
    const buffer = this.buffer
    while (this.step !== 'done') {
      // Skip whitespace before every token except in the middle of a value scan.
      if (this.valueStart < 0) {
        while (this.pos < buffer.length && isSpace(buffer[this.pos] as number)) this.pos++
        if (this.pos >= buffer.length) return
      }
      const byte = buffer[this.pos] as number
      switch (this.step) {
        case 'start':
          // A UTF-8 byte-order mark, which editors on Windows may put before the JSON.
          if (byte === 0xef && this.base + this.pos === 0) {
            if (buffer.length - this.pos < 3 && !final) return
            if (buffer[this.pos + 1] !== 0xbb || buffer[this.pos + 2] !== 0xbf) throw this.notAnObject()
            this.pos += 3
            break
          }
          if (byte !== 0x7b) throw this.notAnObject()
          this.pos++
          this.step = 'first-key'
          break
        case 'first-key':
        case 'key':
        case 'conversations-first-key':
        case 'conversations-key': {
          const inConversations = this.step.startsWith('conversations')
          if (byte === 0x7d && this.step.endsWith('first-key')) {
            this.pos++
            this.step = inConversations ? 'after-value' : 'done'
            break
          }
          if (byte !== DOUBLE_QUOTE) {
            const closing = this.step.endsWith('first-key') ? ' or "}"' : ''
            throw this.unexpected(`a property name in quotes${closing}`)
          }
          const end = this.scan(final)
          if (end < 0) return
          const key = this.parseSlice(this.valueStart, end)
          this.valueStart = -1
          this.pos = end
          if (inConversations) {
            this.conversationId = key as string
            this.step = 'conversations-colon'
          } else {
            this.key = key as string
            this.step = 'colon'
          }
          break
        }
        case 'colon':
        case 'conversations-colon':
          if (byte !== 0x3a) throw this.unexpected('":"')
          this.pos++
          if (this.step === 'conversations-colon') this.step = 'conversation'
          else this.step = this.key === 'conversations' ? 'conversations-value' : 'value'
          break
        case 'conversations-value':
          // Only an object is read conversation by conversation; anything else is read whole as
          // a value and rejected.
          if (byte === 0x7b) {
            this.pos++
            this.sawConversations = true
            this.conversations = new Map()
            this.step = 'conversations-first-key'
          } else {
            this.step = 'value'
          }
          break
        case 'value': {
          const end = this.scan(final)
          if (end < 0) return
          const value = this.parseSlice(this.valueStart, end)
          this.valueStart = -1
          this.pos = end
          this.topField(this.key, value)
          this.step = 'after-value'
          break
        }
        case 'conversation': {
          const defer = this.options.defer === true
          // Deferred: the check finds the end of a conversation wholly in the buffer by itself; the
          // scan (which can resume when more bytes come) is for the others and for damage.
          if (defer && this.valueStart < 0 && this.deferChecked(this.pos)) break
          let end: number
          try {
            end = this.scan(final, !defer)
          } catch (error) {
            // Cut short by the end of the file: damage before the cut is reported first, as the
            // parse in groups without `defer` meets it first.
            if (defer && error instanceof SnapshotFormatError) this.parseInGroups(this.valueStart)
            throw error
          }
          if (end < 0) return
          if (defer) this.deferConversation(this.conversationId, this.valueStart, end)
          else {
            const list =
              this.group !== undefined ? this.finishGroup(end) : this.parseSlice(this.valueStart, end)
            this.conversation(this.conversationId, list)
          }
          this.valueStart = -1
          this.pos = end
          this.step = 'conversations-after-value'
          break
        }
        case 'after-value':
        case 'conversations-after-value': {
          const inConversations = this.step === 'conversations-after-value'
          this.pos++
          if (byte === 0x2c) this.step = inConversations ? 'conversations-key' : 'key'
          else if (byte === 0x7d) this.step = inConversations ? 'after-value' : 'done'
          else {
            this.pos--
            throw this.unexpected('"," or "}"')
          }
          break
        }
      }
    }
    this.trailing(buffer, this.pos)
  }

  private topField(key: string, value: unknown): void {
    if (key === 'conversations') {
      throw new SnapshotFormatError('"conversations" is missing or not an object')
    }
    if (key === META_KEY) {
      const meta = value as { seq?: unknown } | null
      if (
        typeof meta !== 'object' ||
        meta === null ||
        Array.isArray(meta) ||
        typeof meta.seq !== 'number' ||
        !Number.isSafeInteger(meta.seq) ||
        meta.seq < 0 ||
        meta.seq > MAX_SEQ
      ) {
        throw new SnapshotFormatError(
          `"${META_KEY}" is not {"seq": <integer from 0 to ${MAX_SEQ}>}, got ${String(JSON.stringify(meta)).slice(0, 80)}`,
        )
      }
      this.seq = meta.seq
      this.extras.delete(key)
      return
    }
    if (key === 'last_updated') return
    this.extras.set(key, value)
  }

  private conversation(id: string, list: unknown): void {
    if (!Array.isArray(list))
      throw new SnapshotFormatError(`conversation ${JSON.stringify(id)} is not an array`)
    for (let index = 0; index < list.length; index++) {
      const item: unknown = list[index]
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new SnapshotFormatError(
          `message ${index} of conversation ${JSON.stringify(id)} is not an object`,
        )
      }
    }
    this.conversations.set(id, list as Message[])
  }

  /**
   * Keeps the conversation at `buffer[start..end)` as checked bytes. Anything the check refuses is
   * parsed as without `defer` instead, so a damaged file is refused with the same message, and a
   * value the check refused by mistake would still load.
   */
  private deferConversation(id: string, start: number, end: number): void {
    let shape: ArrayShape | undefined
    try {
      shape = checkArrayOfObjects(this.buffer, start, end, GROUP_BYTES)
    } catch (error) {
      if (!(error instanceof JsonCheckError)) throw error
    }
    if (shape === undefined || shape.end !== end) {
      this.conversation(id, this.parseInGroups(start))
      return
    }
    this.keepDeferred(id, start, shape)
  }

  /**
   * Scans and parses the value at `start` again as a parser without `defer` does, in groups (see
   * {@link cutGroup}), so the first damage is reported with the same message. The groups' commas
   * are changed: for a conversation that is parsed now or refused, never one kept as bytes.
   */
  private parseInGroups(start: number): unknown {
    this.valueStart = -1
    this.pos = start
    const end = this.scan(true, true)
    return this.group !== undefined ? this.finishGroup(end) : this.parseSlice(this.valueStart, end)
  }

  /**
   * Checks and keeps the conversation at `start` if it is wholly in the buffer and passes the
   * check; false (nothing done) otherwise.
   */
  private deferChecked(start: number): boolean {
    let shape: ArrayShape
    try {
      shape = checkArrayOfObjects(this.buffer, start, this.buffer.length, GROUP_BYTES)
    } catch (error) {
      if (error instanceof JsonCheckError) return false
      throw error
    }
    this.keepDeferred(this.conversationId, start, shape)
    this.pos = shape.end
    this.step = 'conversations-after-value'
    return true
  }

  private keepDeferred(id: string, start: number, shape: ArrayShape): void {
    const buffer = this.buffer
    const end = shape.end
    if (this.invalidUtf8At < 0) {
      const at = firstInvalidUtf8(buffer, start, end)
      if (at >= 0) this.invalidUtf8At = this.base + at
    }
    // A view, not a copy: a deferring parser never reuses a buffer it read into.
    const bytes = buffer.subarray(start, end)
    const cuts = shape.cuts.map((cut) => cut - start)
    const last = shape.count === 0 ? undefined : (this.parseSlice(shape.lastStart, shape.lastEnd) as Message)
    this.conversations.set(id, new DeferredConversation(bytes, cuts, shape.count, last))
  }

  /**
   * Finds the end (exclusive) of the value starting at `pos`, resuming a scan that ran out of
   * bytes; -1 when more bytes are needed. With `grouped`, an array is parsed as it is scanned, in
   * groups of about {@link GROUP_BYTES} (see {@link cutGroup}), and only the current group's
   * bytes need to stay in the buffer.
   */
  private scan(final: boolean, grouped = false): number {
    const buffer = this.buffer
    const length = buffer.length
    if (this.valueStart < 0) {
      this.valueStart = this.pos
      this.scanPos = this.pos
      this.depth = 0
      this.inString = false
      this.group = undefined
      this.groupCut = false
      const first = buffer[this.pos] as number
      const kind = CLASS[first]
      if (kind === CLOSE || kind === COMMA) throw this.unexpected('a value')
      this.primitive = kind === 0
      if (grouped && first === 0x5b) this.group = []
    }
    if (this.primitive) {
      // A number, true, false or null: it ends at the next delimiter; JSON.parse checks it.
      let i = this.scanPos
      while (i < length && !isDelimiter(buffer[i] as number)) i++
      if (i < length || final) return i
      this.scanPos = i
      return -1
    }
    let i = this.scanPos
    let depth = this.depth
    if (this.inString) {
      const end = stringEnd(buffer, i)
      if (end < 0) {
        this.scanPos = length
        return final ? this.truncated() : -1
      }
      this.inString = false
      i = end + 1
      if (depth === 0) return i
    }
    for (; i < length; i++) {
      const kind = CLASS[buffer[i] as number]
      if (kind === 0) continue
      if (kind === QUOTE) {
        const end = stringEnd(buffer, i + 1)
        if (end < 0) {
          this.inString = true
          this.depth = depth
          this.scanPos = length
          return final ? this.truncated() : -1
        }
        i = end
        if (depth === 0) return i + 1
      } else if (kind === OPEN) {
        depth++
      } else if (kind === CLOSE) {
        if (--depth === 0) return i + 1
      } else if (depth === 1 && this.group !== undefined && i - this.valueStart >= GROUP_BYTES) {
        this.cutGroup(i)
      }
    }
    this.depth = depth
    this.scanPos = i
    return final ? this.truncated() : -1
  }

  /**
   * Parses the elements from the group's start up to the comma at `comma` (at depth 1): the comma
   * becomes `]` for this parse, then `[` to open the next group. The groups together hold exactly
   * the array's bytes, so the array is valid if and only if every group is, none of them empty.
   * Small groups also keep each decoded string small: V8 decodes and allocates strings above
   * about 128 KB several times slower.
   */
  private cutGroup(comma: number): void {
    const buffer = this.buffer
    buffer[comma] = 0x5d
    const items = this.parseSlice(this.valueStart, comma + 1) as unknown[]
    buffer[comma] = 0x5b
    this.groupCut = true
    this.addToGroup(items)
    this.valueStart = comma
  }

  /** Parses the last group of a grouped array ending at `end`; returns the whole array. */
  private finishGroup(end: number): unknown[] {
    this.addToGroup(this.parseSlice(this.valueStart, end) as unknown[])
    const group = this.group as unknown[]
    this.group = undefined
    return group
  }

  private addToGroup(items: unknown[]): void {
    // No group next to a cut is empty: `[1,]` would otherwise pass as `[1]` + `[]`.
    if (this.groupCut && items.length === 0) {
      throw this.syntax('a comma before "]"', this.valueStart)
    }
    const group = this.group as unknown[]
    if (group.length === 0) {
      this.group = items
      return
    }
    for (const item of items) group.push(item)
  }

  private parseSlice(start: number, end: number): unknown {
    if (this.invalidUtf8At < 0) {
      const at = firstInvalidUtf8(this.buffer, start, end)
      if (at >= 0) this.invalidUtf8At = this.base + at
    }
    try {
      return JSON.parse(this.buffer.toString('utf8', start, end))
    } catch (error) {
      // The checker names the offending byte; V8's message would name a character of the slice.
      const found = jsonError(this.buffer, start, end)
      if (found !== undefined) throw this.syntax(found.reason, found.at)
      throw this.syntax((error as Error).message, start)
    }
  }

  private trailing(buffer: Buffer, from: number): void {
    for (let i = from; i < buffer.length; i++) {
      if (!isSpace(buffer[i] as number)) {
        throw this.syntax('data after the end of the JSON', i)
      }
    }
  }

  private truncated(): never {
    // A quote lost or added turns every string after it inside out, so the scan for the value's
    // end runs to the end of the file: the grammar check of the value finds the byte that is
    // really wrong, before it. (A value parsed in groups keeps only its last group's bytes.)
    if (this.valueStart >= 0 && !this.groupCut) {
      const found = jsonError(this.buffer, this.valueStart, this.buffer.length)
      if (found !== undefined && found.at < this.buffer.length) throw this.syntax(found.reason, found.at)
    }
    throw this.syntax('the file ends in the middle of a value', this.buffer.length)
  }

  /**
   * A top level other than `{`: a JSON value of another kind (`[]`, `null`), or no JSON at all
   * (`garbage{`), which is a syntax error at its first byte like any other.
   */
  private notAnObject(): SnapshotFormatError {
    if (startsJsonValue(this.buffer, this.pos))
      return new SnapshotFormatError('the top level is not a JSON object')
    return this.unexpected('a JSON object')
  }

  /** The byte at `pos` is not what the grammar allows there. */
  private unexpected(expected: string): SnapshotFormatError {
    return this.syntax(
      `expected ${expected}, found ${showByte(this.buffer, this.pos, this.buffer.length)}`,
      this.pos,
    )
  }

  /** Invalid JSON at `at`, an offset in the buffer. */
  private syntax(reason: string, at: number): SnapshotFormatError {
    return new SnapshotFormatError(reason, this.base + at)
  }
}

/** Whether the bytes at `at` can begin a JSON value (as far as the buffer holds them). */
function startsJsonValue(buffer: Uint8Array, at: number): boolean {
  const byte = buffer[at] as number
  if (byte === 0x5b || byte === 0x22 || byte === 0x2d || (byte >= 0x30 && byte <= 0x39)) return true
  const literal = byte === 0x74 ? 'true' : byte === 0x66 ? 'false' : byte === 0x6e ? 'null' : undefined
  if (literal === undefined) return false
  for (let k = 1; k < literal.length && at + k < buffer.length; k++) {
    if (buffer[at + k] !== literal.charCodeAt(k)) return false
  }
  return true
}
