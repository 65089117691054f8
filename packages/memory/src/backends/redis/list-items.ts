import { MemoryError } from '../../errors.js'
import { type Message, show } from '../../message.js'

/**
 * The messages of a conversation's list, parsed. `first` is the index of `items[0]` in the list
 * (negative when counted from the end, as `LRANGE` was asked), so an error names an index that
 * `LINDEX` finds. An item that is not JSON, or whose JSON is not a message as `add()` stores it (an
 * object with a non-empty string `role`, a string `content` and a string `timestamp`), is reported
 * as corrupt rather than passed on.
 */
export function parseItems(items: readonly string[], key: string, where: string, first: number): Message[] {
  const messages: Message[] = []
  for (let i = 0; i < items.length; i++) {
    const index = first + i
    let value: unknown
    try {
      value = JSON.parse(items[i] as string)
    } catch (error) {
      throw corrupt(`item ${index} of the list "${key}" at ${where} is not JSON`, key, index, error)
    }
    if (!isMessage(value)) {
      throw corrupt(
        `item ${index} of the list "${key}" at ${where} is ${show(value)}, not a message (an object with string role, content and timestamp)`,
        key,
        index,
      )
    }
    messages.push(value)
  }
  return messages
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { role, content, timestamp } = value as Record<string, unknown>
  return (
    typeof role === 'string' && role !== '' && typeof content === 'string' && typeof timestamp === 'string'
  )
}

function corrupt(what: string, key: string, index: number, cause?: unknown): MemoryError {
  return new MemoryError(
    'corrupt',
    `${what}. Something else wrote to it: remove that item (LSET it to a marker, then LREM) or clear the conversation.`,
    cause === undefined ? { details: { key, index } } : { cause, details: { key, index } },
  )
}
