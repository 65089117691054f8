import type { Message } from './message.js'

/**
 * Gives every message of `list` that has no usable id (one written by the Python bot or by a
 * release without ids) an id derived from what it holds: its role, timestamp and content, and how
 * many identical messages come before it in the list, skipping ids the list already holds. The same list therefore gets the same ids
 * at every open without anything being written; the backend stores them with the message at its
 * next rewrite (a snapshot, a migration), and from then on they are kept as they are. Returns how
 * many messages got an id.
 */
export function assignLegacyIds(list: Message[]): number {
  let taken: Set<unknown> | undefined
  let seen: Map<string, number> | undefined
  let assigned = 0
  for (let i = 0; i < list.length; i++) {
    const message = list[i] as Message
    if (hasId(message)) continue
    // Ids already stored are never given again: a copy of a message made by another program
    // (which keeps the copied id out) must not take the id of the message it copies.
    taken ??= new Set(list.map((m) => m.id))
    seen ??= new Map()
    const digest = messageHash(message)
    let n = seen.get(digest) ?? 0
    let id = n === 0 ? `legacy-${digest}` : `legacy-${digest}-${n}`
    while (taken.has(id)) id = `legacy-${digest}-${++n}`
    seen.set(digest, n + 1)
    taken.add(id)
    list[i] = { ...message, id }
    assigned++
  }
  return assigned
}

/** True when a message carries an id the store can use. */
export function hasId(message: Message): boolean {
  return typeof message.id === 'string' && message.id.length > 0
}

// Only the ends of a long content are hashed (with its length): opening a large Python file must
// not read every character twice. Two messages alike in all that still get distinct ids, by rank.
const HASHED_END = 32

/**
 * 64 bits of a message's role, timestamp, content length and the ends of its content, as 16 hex
 * digits: two 32-bit multiplicative hashes with different multipliers, each finished with an
 * avalanche step. Not cryptographic, and it need not be: ids only have to differ within one
 * conversation, where a clash is resolved by rank. Never change it: callers see ids derived by it
 * before they are stored.
 */
function messageHash(message: Message): string {
  const content = String(message.content)
  const state = { a: 0x811c9dc5 ^ content.length, b: 0x9e3779b9 }
  mix(state, String(message.role), 0, Number.POSITIVE_INFINITY)
  mix(state, String(message.timestamp), 0, Number.POSITIVE_INFINITY)
  if (content.length <= 2 * HASHED_END) mix(state, content, 0, content.length)
  else {
    mix(state, content, 0, HASHED_END)
    mix(state, content, content.length - HASHED_END, content.length)
  }
  let { a, b } = state
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b)
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35)
  a ^= a >>> 16
  b = Math.imul(b ^ (b >>> 15), 0x2c1b3c6d)
  b = Math.imul(b ^ (b >>> 12), 0x297a2d39)
  b ^= b >>> 15
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

/** Feeds `text[from..to)` and a separator into the two hash states. */
function mix(state: { a: number; b: number }, text: string, from: number, to: number): void {
  let { a, b } = state
  const end = Math.min(to, text.length)
  for (let i = from; i < end; i++) {
    const unit = text.charCodeAt(i)
    a = Math.imul(a ^ unit, 0x01000193)
    b = Math.imul(b ^ unit, 0x5bd1e995)
    b ^= b >>> 13
  }
  state.a = Math.imul(a ^ 0xffff, 0x01000193)
  state.b = Math.imul(b ^ 0xffff, 0x5bd1e995)
}
