import { jsonProblem, propertyPath } from './json-value.js'
import { randomId } from './uuid.js'

/** A conversation id as callers give it: a string, or a number such as a Telegram chat id. */
export type ConversationId = string | number

/**
 * Who wrote a message. The usual chat roles, or any other non-empty string.
 */
export type Role = 'user' | 'assistant' | 'system' | (string & {})

/**
 * A stored message. Fields other than `role`, `content`, `timestamp` and `id` are kept as given
 * and written to disk unchanged (the Python bot's files may carry such extra fields).
 */
export interface Message {
  /** Who wrote it. */
  role: Role
  /** The text. */
  content: string
  /**
   * When it was added, as an ISO 8601 string. Every message the store adds has one; a message
   * written without one by another program (the Python bot) is kept without one, on every backend
   * and through `migrate()`, and is never pruned.
   */
  timestamp: string
  /**
   * Identifies the message within its conversation, for `upsert()` and `remove()`. Every message
   * the store returns has one: given to `add()`, generated there (a UUID), or for a message
   * written without one (by the Python bot) derived from its content (`legacy-...`).
   */
  id?: string
  /** Extra JSON-serialisable fields, preserved as is. */
  [field: string]: unknown
}

/** A message as given to `add()`: `timestamp` is filled in when missing. */
export interface MessageInput {
  /** Who wrote it. */
  role: Role
  /** The text. */
  content: string
  /** When it was written, as an ISO 8601 string; defaults to now. */
  timestamp?: string
  /** Its id within the conversation (a non-empty string of at most 256 characters); defaults to a new UUID. */
  id?: string
  /** Extra JSON-serialisable fields, preserved as is. */
  [field: string]: unknown
}

/** A message as the store returns it from `add()` and `upsert()`: its id is always there. */
export type StoredMessage = Message & { id: string }

// Long enough for any id a caller would use (a UUID, a platform's message id), short enough that
// an id never dominates a message's size.
const MAX_ID_LENGTH = 256

/** Checks a message id given by a caller; `field` names it in the error. */
export function checkMessageId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${field} must be a non-empty string, got ${show(value)}`)
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new RangeError(`${field} must be at most ${MAX_ID_LENGTH} characters, got ${value.length}`)
  }
  assertWellFormed(value, field)
  return value
}

// String.prototype.isWellFormed (Node 20 has it; the ES2023 lib this package builds with does not).
const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed

/**
 * Refuses an id with a lone surrogate (half of a UTF-16 pair, such as `'\uD800'`): SQLite and Redis
 * keep ids as UTF-8, which cannot hold one, so it would come back as U+FFFD and name nothing. The
 * same on every backend, so a store can move to another.
 */
function assertWellFormed(value: string, field: string): void {
  if (isWellFormed === undefined || isWellFormed.call(value)) return
  const at = value.search(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/)
  throw new RangeError(
    `${field} must be well-formed Unicode, got a lone surrogate (\\u${value.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}: SQLite and Redis store ids as UTF-8, which cannot hold it. Pass the id as it was before it was cut in the middle of a character`,
  )
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a Date'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** Formats a value for an error message: short, and never throws. */
export function show(value: unknown): string {
  try {
    return describe(value)
  } catch {
    return 'an unprintable value'
  }
}

/**
 * Turns a caller's conversation id into the string key every backend uses. Numbers and their
 * decimal strings name the same conversation, as in the Python bot's JSON keys.
 */
export function conversationKey(id: unknown, field = 'id'): string {
  if (typeof id === 'string') {
    if (id.length === 0)
      throw new RangeError(`${field} must be a non-empty string or a finite number, got ""`)
    assertWellFormed(id, field)
    return id
  }
  if (typeof id === 'number') {
    if (!Number.isFinite(id)) throw new RangeError(`${field} must be a finite number, got ${id}`)
    return String(id)
  }
  throw new TypeError(`${field} must be a non-empty string or a finite number, got ${show(id)}`)
}

// JSON spends at most 6 bytes on one UTF-16 unit of a string (`\u001f`, a lone surrogate), and
// a number or literal takes at most 24 characters.
const MAX_BYTES_PER_UNIT = 6
const MAX_SCALAR_BYTES = 24

/**
 * The stored form of a message whose fields are all strings, booleans, null or finite numbers
 * (what chat messages are), with an upper bound of its JSON size; `undefined` when a field needs
 * the JSON round trip (a nested value, `undefined`, `-0`, `NaN`, a `__proto__` key...). For such
 * flat records a shallow copy is exactly what `JSON.parse(JSON.stringify())` would give, at a
 * fraction of the cost, and the bound makes serialising the message just to check its size
 * unnecessary.
 */
function flatCopy(
  record: Record<string, unknown>,
  role: string,
  content: string,
  timestamp: unknown,
  id: string,
): Message | undefined {
  const keys = Object.keys(record)
  // What nearly every add() gets, { role, content }: the same object and bound as the loop below
  // makes, built at once as a literal.
  if (keys.length === 2 && keys[0] === 'role' && keys[1] === 'content' && typeof timestamp === 'string') {
    flatBytes =
      2 +
      (role.length + content.length + timestamp.length + id.length) * MAX_BYTES_PER_UNIT +
      ROLE_CONTENT_OVERHEAD
    return { role, content, timestamp, id }
  }
  const message: Record<string, unknown> = {}
  let maxBytes = 2
  let stamped = false
  let named = false
  for (const key of keys) {
    let value: unknown
    // The checked values, not a second read: a getter could answer differently.
    if (key === 'role') value = role
    else if (key === 'content') value = content
    else if (key === 'timestamp') {
      value = timestamp
      stamped = true
    } else if (key === 'id') {
      value = id
      named = true
    } else if (key === '__proto__') return undefined
    else value = record[key]
    if (typeof value === 'string') maxBytes += value.length * MAX_BYTES_PER_UNIT + 2
    else if (typeof value === 'number') {
      if (!Number.isFinite(value) || Object.is(value, -0)) return undefined
      maxBytes += MAX_SCALAR_BYTES
    } else if (typeof value === 'boolean' || value === null) maxBytes += MAX_SCALAR_BYTES
    else return undefined
    maxBytes += key.length * MAX_BYTES_PER_UNIT + 4
    message[key] = value
  }
  if (!stamped && typeof timestamp === 'string') {
    message.timestamp = timestamp
    maxBytes += timestamp.length * MAX_BYTES_PER_UNIT + 15
  }
  if (!named) {
    message.id = id
    maxBytes += id.length * MAX_BYTES_PER_UNIT + 8
  }
  flatBytes = maxBytes
  return message as Message
}

// The bound of the last message flatCopy() returned: a module variable rather than a pair object,
// one allocation less per add().
let flatBytes = 0

// What flatCopy's loop adds to the bound for { role, content } besides the four values' units:
// each string value's quotes, each key's units and its quotes, colon and comma, and the separators
// of the appended timestamp and id.
const ROLE_CONTENT_OVERHEAD = 2 + (4 * MAX_BYTES_PER_UNIT + 4) + 2 + (7 * MAX_BYTES_PER_UNIT + 4) + 15 + 8

/**
 * Why `value` is not a valid stored message, or `undefined` when it is one: a JSON object with a
 * non-empty string `role`, a string `content` and, with `timestamp: 'required'`, a string
 * `timestamp`. The one rule for what the store writes and for what its backends accept back
 * (journal records, Redis list items), so nothing written can be refused when it is read again. A
 * message without a timestamp, or with one that is no string (`1735689600`), is what the Python
 * bot may write, and what migrate() copies as it is: an unreadable time, never pruned.
 */
export function messageProblem(
  value: unknown,
  timestamp: 'required' | 'optional' = 'optional',
): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `it is ${show(value)}`
  const record = value as Record<string, unknown>
  const { role, content } = record
  if (typeof role !== 'string' || role.length === 0) return `its role is ${show(role)}`
  if (typeof content !== 'string') return `its content is ${show(content)}`
  const stamp = record.timestamp
  if (typeof stamp !== 'string' && timestamp === 'required') return `its timestamp is ${show(stamp)}`
  return undefined
}

/**
 * Why a message read from a JSON snapshot cannot be handed out as a {@link Message}, or
 * `undefined`: {@link messageProblem}'s rule without the timestamp. Snapshots are also written by
 * the Python bot and by hand, and a message without a timestamp has always loaded (it is never
 * pruned); one without a string `content` or `role` breaks every caller that prints it.
 */
export function snapshotMessageProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `it is ${show(value)}`
  const { role, content } = value as Record<string, unknown>
  if (typeof role !== 'string' || role.length === 0) return `its role is ${show(role)}`
  if (typeof content !== 'string') return `its content is ${show(content)}`
  return undefined
}

// Above this bound the exact JSON size is measured: batches and the pending byte limit count a
// large message's real bytes, not a bound up to six times as large. Below it the bound is cheap
// and small enough that the default maxPendingBytes (64 MiB) holds more than maxPending (10,000)
// messages counted by it, so with the defaults only real bytes can reach the byte limit.
const EXACT_SIZE_ABOVE = 4096

/** A validated message and the bytes of its JSON form (an upper bound for a small message). */
export interface SizedMessage {
  readonly message: Message
  readonly bytes: number
}

/**
 * Validates a message given to `add()` and returns the stored form. What is kept in memory is
 * exactly what will be on disk: a plain JSON copy of the input, so later changes to the caller's
 * object, `toJSON` methods or `undefined` fields cannot make the two differ. The copy is checked
 * with {@link messageProblem}: an own `toJSON()` decides what is serialised, and may not return a
 * message at all. A message without a timestamp gets `now()`, or stays without one when `now` is
 * {@link noTimestamp} (a message copied by migrate(), which also keeps a given timestamp that is not
 * an ISO 8601 string as it is: the source holds it so, and such a message is never pruned).
 */
export function toMessage(
  input: unknown,
  maxBytes: number,
  now: () => string | undefined,
  newId: () => string = randomId,
): SizedMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`message must be an object with role and content, got ${show(input)}`)
  }
  const record = input as Record<string, unknown>
  const { role, content, timestamp: given, id: givenId } = record
  if (typeof role !== 'string' || role.length === 0) {
    throw new TypeError(`message.role must be a non-empty string, got ${show(role)}`)
  }
  if (typeof content !== 'string') {
    throw new TypeError(`message.content must be a string, got ${show(content)}`)
  }
  let timestamp: unknown
  if (given === undefined) {
    timestamp = now()
  } else if ((typeof given === 'string' && !Number.isNaN(Date.parse(given))) || now === noTimestamp) {
    timestamp = given
  } else {
    // A Date is refused, not converted: a stored timestamp is always the caller's own string.
    const hint = given instanceof Date ? ': pass date.toISOString()' : ''
    throw new TypeError(`message.timestamp must be an ISO 8601 string, got ${show(given)}${hint}`)
  }
  const id = givenId === undefined ? newId() : checkMessageId(givenId, 'message.id')
  const flat = flatCopy(record, role, content, timestamp, id)
  if (flat !== undefined && flatBytes <= maxBytes && flatBytes <= EXACT_SIZE_ABOVE) {
    return { message: flat, bytes: flatBytes }
  }
  // Fields JSON would change without a word (a Map to {}, NaN to null) are refused, naming the
  // field; a message with its own toJSON() decides what is written, checked below.
  if (typeof record.toJSON !== 'function') {
    for (const key of Object.keys(record)) {
      const value = record[key]
      // Left out by JSON, as the README says: not data.
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue
      const field = `message${propertyPath(key)}`
      let problem: string | undefined
      try {
        problem = jsonProblem(value, field, { asJsonWould: true })
      } catch (error) {
        // The call stack ran out: JSON.stringify and every later read would fail on it too.
        if (!(error instanceof RangeError)) throw error
        throw new RangeError(
          `${field} is nested too deeply to be checked and stored (${error.message}): flatten it, or store it as a JSON string`,
          { cause: error },
        )
      }
      if (problem !== undefined) throw new TypeError(problem)
    }
  }
  let json: string | undefined
  try {
    json = JSON.stringify({ ...record, role, content, timestamp, id })
  } catch (error) {
    throw new TypeError(
      `message must be JSON-serialisable, got a value that is not (${(error as Error).message})`,
    )
  }
  if (json === undefined) throw new TypeError('message must be JSON-serialisable')
  const bytes = Buffer.byteLength(json)
  if (bytes > maxBytes) {
    throw new RangeError(
      `message is ${bytes} bytes once serialised, above maxMessageBytes (${maxBytes}): shorten message.content or raise maxMessageBytes`,
    )
  }
  if (flat !== undefined) return { message: flat, bytes }
  const stored: unknown = JSON.parse(json)
  const problem = messageProblem(stored, typeof timestamp === 'string' ? 'required' : 'optional')
  if (problem !== undefined) {
    throw new TypeError(
      `message must serialise to an object with role, content and timestamp, but ${problem} once serialised (a toJSON() method decides what is written): return the message's fields from toJSON() or remove it`,
    )
  }
  // A toJSON() that leaves the id out, or changes it, does not decide the id: add() has told it.
  ;(stored as Message).id = id
  return { message: stored as Message, bytes }
}

/** The `now` of {@link toMessage} that leaves a message without a timestamp as it is. */
export function noTimestamp(): undefined {
  return undefined
}

let clockMs = Number.NaN
let clockIso = ''

/**
 * The current time as an ISO 8601 string. Formatting a Date is about half the cost of `add()`, and
 * a busy bot adds many messages within one millisecond, so the string of that millisecond is kept.
 */
export function isoNow(): string {
  const ms = Date.now()
  if (ms !== clockMs) {
    clockMs = ms
    clockIso = new Date(ms).toISOString()
  }
  return clockIso
}

/** The epoch milliseconds of a message's timestamp, or NaN when it cannot be read. */
export function messageTime(message: Message | undefined): number {
  if (message === undefined || typeof message.timestamp !== 'string') return Number.NaN
  return Date.parse(message.timestamp)
}
