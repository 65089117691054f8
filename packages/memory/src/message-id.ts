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
  let seen: Map<string, number> | undefined
  let assigned = 0
  for (let i = 0; i < list.length; i++) {
    const message = list[i] as Message
    const id = message.id
    if (typeof id === 'string' && id.length > 0) continue
    const digest = createHash('sha256')
      .update(`${message.role}\u0000${message.timestamp}\u0000${message.content}`)
      .digest('hex')
      .slice(0, 24)
    seen ??= new Map()
    const n = seen.get(digest) ?? 0
    seen.set(digest, n + 1)
    list[i] = { ...message, id: n === 0 ? `legacy-${digest}` : `legacy-${digest}-${n}` }
    assigned++
  }
  return assigned
}
