import { createHash } from 'node:crypto'
import type { Message } from './message.js'

/**
 * Gives every message of `list` that has no usable id (one written by the Python bot or by a
 * release without ids) an id derived from what it holds: its role, timestamp and content, and how
 * many identical messages come before it in the list. The same list therefore gets the same ids
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
    const digest = createHash('sha256')
      .update(`${message.role}\u0000${message.timestamp}\u0000${message.content}`)
      .digest('hex')
      .slice(0, 24)
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
