import { MemoryError } from '../../errors.js'
import { type Message, messageProblem } from '../../message.js'

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
    const problem = messageProblem(value)
    if (problem !== undefined) {
      throw corrupt(
        `item ${index} of the list "${key}" at ${where} is not a message as add() stores it (${problem})`,
        key,
        index,
      )
    }
    messages.push(value as Message)
  }
  return messages
}

function corrupt(what: string, key: string, index: number, cause?: unknown): MemoryError {
  return new MemoryError(
    'corrupt',
    `${what}. Something else wrote to it: remove that item (LSET it to a marker, then LREM) or clear the conversation.`,
    cause === undefined ? { details: { key, index } } : { cause, details: { key, index } },
  )
}
