/** A conversation id as callers give it: a string, or a number such as a Telegram chat id. */
export type ConversationId = string | number

/**
 * Who wrote a message. The usual chat roles, or any other non-empty string.
 */
export type Role = 'user' | 'assistant' | 'system' | (string & {})

/**
 * A stored message. Fields other than `role`, `content` and `timestamp` are kept as given and
 * written to disk unchanged (the Python bot's files may carry such extra fields).
 */
export interface Message {
  /** Who wrote it. */
  role: Role
  /** The text. */
  content: string
  /** When it was added, as an ISO 8601 string. */
  timestamp: string
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
  /** Extra JSON-serialisable fields, preserved as is. */
  [field: string]: unknown
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
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
    return id
  }
  if (typeof id === 'number') {
    if (!Number.isFinite(id)) throw new RangeError(`${field} must be a finite number, got ${id}`)
    return String(id)
  }
  throw new TypeError(`${field} must be a non-empty string or a finite number, got ${show(id)}`)
}

/**
 * Validates a message given to `add()` and returns the stored form with its serialised size.
 * The copy is made through JSON so that what is kept in memory is exactly what will be on disk.
 */
export function toMessage(
  input: unknown,
  maxBytes: number,
  now: () => string,
): { message: Message; bytes: number } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`message must be an object with role and content, got ${show(input)}`)
  }
  const record = input as Record<string, unknown>
  if (typeof record.role !== 'string' || record.role.length === 0) {
    throw new TypeError(`message.role must be a non-empty string, got ${show(record.role)}`)
  }
  if (typeof record.content !== 'string') {
    throw new TypeError(`message.content must be a string, got ${show(record.content)}`)
  }
  let timestamp: string
  if (record.timestamp === undefined) {
    timestamp = now()
  } else if (typeof record.timestamp === 'string' && !Number.isNaN(Date.parse(record.timestamp))) {
    timestamp = record.timestamp
  } else {
    throw new TypeError(`message.timestamp must be an ISO 8601 string, got ${show(record.timestamp)}`)
  }
  let json: string | undefined
  try {
    json = JSON.stringify({ ...record, role: record.role, content: record.content, timestamp })
  } catch (error) {
    throw new TypeError(
      `message must be JSON-serialisable, got a value that is not (${(error as Error).message})`,
    )
  }
  if (json === undefined) throw new TypeError('message must be JSON-serialisable')
  const bytes = Buffer.byteLength(json)
  if (bytes > maxBytes) {
    throw new RangeError(`message is ${bytes} bytes once serialised, above maxMessageBytes (${maxBytes})`)
  }
  return { message: JSON.parse(json) as Message, bytes }
}

/** The epoch milliseconds of a message's timestamp, or NaN when it cannot be read. */
export function messageTime(message: Message | undefined): number {
  if (message === undefined || typeof message.timestamp !== 'string') return Number.NaN
  return Date.parse(message.timestamp)
}
