import type { Operation } from '../backend.js'
import type { Message } from '../message.js'
import { dropOldest } from './trim.js'

/** Where the message with `id` is in `list`, newest first (the usual target), or -1. */
export function indexOfId(list: readonly Message[], id: string): number {
  for (let i = list.length - 1; i >= 0; i--) if ((list[i] as Message).id === id) return i
  return -1
}

/**
 * Appends `text` to the content of message `id` in `list` (nothing when there is none), deleting
 * its `unfinished` field when `finish` is true. The message is replaced by a changed copy, never
 * changed in place: a snapshot being written may hold it.
 */
export function extendMessage(list: Message[], id: string, text: string, finish: boolean): void {
  const at = indexOfId(list, id)
  if (at < 0) return
  const extended: Message = { ...(list[at] as Message) }
  extended.content += text
  if (finish) delete extended.unfinished
  list[at] = extended
}

/**
 * Applies operations to a conversation's list in place, in order: the one meaning of add, upsert,
 * remove and extend for every backend that keeps lists in memory. The list is kept to `max`
 * messages as each operation would leave it on its own: trimmed before the first (a list loaded
 * under a larger limit) and after each message it appends, dropping the oldest. So a message that
 * history() no longer shows is never the target of a later remove or upsert in the same batch,
 * whether the batch holds one change (strict) or many (batched). `dropped` hears of each trim.
 * Returns the change in its length.
 */
export function applyOperations(
  list: Message[],
  operations: readonly Operation[],
  max = Number.POSITIVE_INFINITY,
  dropped?: (count: number) => void,
): number {
  const before = list.length
  const trim = (): void => {
    const excess = list.length - max
    if (excess <= 0) return
    dropOldest(list, excess)
    dropped?.(excess)
  }
  trim()
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        list.push(operation.message)
        trim()
        break
      case 'upsert': {
        const at = indexOfId(list, operation.message.id as string)
        if (at >= 0) list[at] = operation.message
        else if (operation.ifPresent !== true) {
          list.push(operation.message)
          trim()
        }
        break
      }
      case 'remove': {
        const at = indexOfId(list, operation.id)
        if (at >= 0) list.splice(at, 1)
        break
      }
      case 'extend':
        extendMessage(list, operation.id, operation.text, operation.finish === true)
        break
    }
  }
  return list.length - before
}
