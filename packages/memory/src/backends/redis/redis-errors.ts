/**
 * Reading the errors of ioredis and of the server: what they mean, what to advise, and a copy of
 * each that is safe to keep in a `MemoryError` (ioredis attaches the failed command with its
 * arguments, which are the password of an `AUTH` or the messages of a write).
 */

import { redactText } from '../../redact.js'

/** The message of an error, or the value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** True for an error reply of the server (as opposed to a connection or client error). */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError'
}

/** True when the server no longer has the script in its cache. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/** True when a command met a key holding another type of value than it works on. */
export function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE')
}

/**
 * A copy of an error with its name, message, errno code and stack only, URLs redacted. ioredis
 * attaches `command` (name and arguments) to a failed command, so its `AUTH` error carries the
 * password and a failed write every message of the batch; such an error is never kept as is.
 */
export function safeCause(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(redactText(String(error)))
  const copy = new Error(redactText(error.message))
  Object.defineProperty(copy, 'name', { value: error.name, configurable: true, writable: true })
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true })
  if (error.stack !== undefined) copy.stack = redactText(error.stack)
  return copy
}

/** What to do about an error reply, as a sentence to append to a message ('' when unknown). */
export function advice(error: unknown): string {
  const text = errorText(error)
  if (/\b(NOAUTH|WRONGPASS)\b/.test(text)) {
    return ' Check the user name and password (in the URL, or in the options of the client you passed).'
  }
  if (/\bNOPERM\b/.test(text)) {
    return ' Grant the Redis user EVAL, EVALSHA and the string, list, hash and sorted-set commands on the keys under keyPrefix.'
  }
  if (/\bREADONLY\b/.test(text)) return ' This server is a read-only replica: connect to the primary.'
  if (/\bOOM\b/.test(text)) {
    return ' Redis is full (maxmemory): raise maxmemory, lower maxMessages or prune old conversations.'
  }
  if (/\bWRONGTYPE\b/.test(text)) return ` ${FOREIGN_KEY_ADVICE}`
  return ''
}

/** What to do about a key under keyPrefix that holds a value this backend did not write. */
export const FOREIGN_KEY_ADVICE =
  'A key under keyPrefix holds a value this backend did not write: use another keyPrefix or delete that key.'

const TYPE_NAMES: Record<string, string> = { zset: 'a sorted set', hash: 'a hash', list: 'a list' }

/** A Redis type (as `TYPE` answers it) in words: `a string`, `a sorted set`... */
export function typeName(type: string): string {
  return TYPE_NAMES[type] ?? `a ${type}`
}
