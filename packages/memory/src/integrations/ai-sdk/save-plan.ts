import type { UIMessage } from 'ai'
import { jsonEqual } from '../../json-value.js'
import type { Message } from '../../message.js'
import { uiMessageOf } from './ui-message.js'

/** One message to write, in the order the writes must be made. */
export interface PlannedWrite {
  readonly message: UIMessage
  /**
   * `add`: a new message, appended. `upsert`: a stored message, replaced in place, or appended
   * again after its removal when it has to move.
   */
  readonly kind: 'add' | 'upsert'
  /** The stored message's timestamp, kept when it is rewritten; undefined for a new message. */
  readonly timestamp: string | undefined
  /** Its index in the chat's messages, for errors. */
  readonly index: number
}

/** What saving a chat takes, given what the conversation holds. */
export interface SavePlan {
  /** Ids of stored messages to remove first. */
  readonly remove: string[]
  /** Then these writes, in this order. */
  readonly write: PlannedWrite[]
  /** Messages stored as given: nothing to write. */
  readonly unchanged: number
  /** Messages older than the oldest stored one: taken as trimmed by `maxMessages`, not written. */
  readonly skipped: number
}

/**
 * Compares the chat (`messages`, the whole array the AI SDK holds) with the stored conversation
 * and plans the fewest writes that make the two equal, in the same order. Stored messages are
 * matched by id. A stored message missing from the chat is removed (a regenerated reply, an
 * edited turn). From the first place where the order differs, the stored messages are removed
 * and the chat's are appended again, since `upsert()` replaces in place and appends only.
 */
export function planSave(stored: readonly Message[], messages: readonly UIMessage[]): SavePlan {
  const position = new Map<string, number>()
  for (let i = 0; i < messages.length; i++) position.set((messages[i] as UIMessage).id, i)
  const remove: string[] = []
  const kept: Message[] = []
  for (const message of stored) {
    if (typeof message.id !== 'string') continue
    if (position.has(message.id)) kept.push(message)
    else remove.push(message.id)
  }
  // The chat's messages before the first one still stored were dropped by maxMessages: writing
  // them again would append them after newer ones.
  let start = kept.length === 0 ? 0 : messages.length
  for (const held of kept) start = Math.min(start, position.get(held.id as string) as number)
  const write: PlannedWrite[] = []
  let unchanged = 0
  let i = start
  let k = 0
  for (; i < messages.length && k < kept.length; i++, k++) {
    const message = messages[i] as UIMessage
    const held = kept[k] as Message
    if (message.id !== held.id) break
    if (jsonEqual(uiMessageOf(held), message) && held.role === message.role) unchanged++
    else write.push({ message, kind: 'upsert', timestamp: held.timestamp, index: i })
  }
  const moved = new Map<string, string>()
  for (; k < kept.length; k++) {
    const held = kept[k] as Message
    remove.push(held.id as string)
    moved.set(held.id as string, held.timestamp)
  }
  for (; i < messages.length; i++) {
    const message = messages[i] as UIMessage
    const timestamp = moved.get(message.id)
    write.push({ message, kind: timestamp === undefined ? 'add' : 'upsert', timestamp, index: i })
  }
  return { remove, write, unchanged, skipped: start }
}
