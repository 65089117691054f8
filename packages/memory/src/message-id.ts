import type { Message } from './message.js'

/**
 * Gives every message of `list` that has no usable id (one written by the Python bot or by a
 * release without ids) an id derived from what it holds: its role, timestamp and content, and how
 * many identical messages come before it in the list, skipping ids the list already holds. The same list therefore gets the same ids
 * at every open without anything being written; the backend stores them with the message at its
 * next rewrite (a snapshot, a migration), and from then on they are kept as they are. Returns how
 * many messages got an id. The messages are copied, unless `inPlace` says the caller owns them
 * (parsed just now, seen by nobody else).
 */
export function assignLegacyIds(list: Message[], { inPlace = false }: { inPlace?: boolean } = {}): number {
  // Ids already stored are never given again: a copy of a message made by another program
  // (which keeps the copied id out) must not take the id of the message it copies. Without stored
  // ids (a Python file) there is nothing to avoid: the ids given here cannot clash, as a digest is
  // always 16 hex digits, so the set is left out of the common case.
  const taken = list.some(hasId) ? new Set(list.map((m) => m.id)) : undefined
  let seen: Map<string, number> | undefined
  let assigned = 0
  for (let i = 0; i < list.length; i++) {
    const message = list[i] as Message
    if (hasId(message)) continue
    seen ??= new Map()
    const digest = messageHash(message)
    let n = seen.get(digest) ?? 0
    let id = n === 0 ? `legacy-${digest}` : `legacy-${digest}-${n}`
    if (taken !== undefined) {
      while (taken.has(id)) id = `legacy-${digest}-${++n}`
      taken.add(id)
    }
    seen.set(digest, n + 1)
    // A copy unless the caller owns the messages (just parsed): opening a large Python file gives
    // a million messages their ids, and copying them took longer than deriving the ids.
    if (inPlace) message.id = id
    else list[i] = { ...message, id }
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
  // Two 32-bit states kept in module variables rather than an object: opening a store derives an
  // id per message, a million of them for a large Python file.
  hashA = 0x811c9dc5 ^ content.length
  hashB = 0x9e3779b9
  const role = String(message.role)
  mix(role, 0, role.length)
  const timestamp = String(message.timestamp)
  mix(timestamp, 0, timestamp.length)
  if (content.length <= 2 * HASHED_END) mix(content, 0, content.length)
  else {
    mix(content, 0, HASHED_END)
    mix(content, content.length - HASHED_END, content.length)
  }
  let a = hashA
  let b = hashB
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b)
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35)
  a ^= a >>> 16
  b = Math.imul(b ^ (b >>> 15), 0x2c1b3c6d)
  b = Math.imul(b ^ (b >>> 12), 0x297a2d39)
  b ^= b >>> 15
  return hex8(a) + hex8(b)
}

let hashA = 0
let hashB = 0

/** Feeds `text[from..end)` and a separator into the two hash states. */
function mix(text: string, from: number, end: number): void {
  let a = hashA
  let b = hashB
  for (let i = from; i < end; i++) {
    const unit = text.charCodeAt(i)
    a = Math.imul(a ^ unit, 0x01000193)
    b = Math.imul(b ^ unit, 0x5bd1e995)
    b ^= b >>> 13
  }
  hashA = Math.imul(a ^ 0xffff, 0x01000193)
  hashB = Math.imul(b ^ 0xffff, 0x5bd1e995)
}

const HEX = '0123456789abcdef'

/** A 32-bit value as 8 lower-case hex digits. */
function hex8(value: number): string {
  let text = ''
  for (let shift = 28; shift >= 0; shift -= 4) text += HEX[(value >>> shift) & 15]
  return text
}
