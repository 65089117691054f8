import type { Operation } from '../backend.js'
import type { Message } from '../message.js'

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
 * remove and extend for every backend that keeps lists in memory. Returns the change in its length.
 */
export function applyOperations(list: Message[], operations: readonly Operation[]): number {
  const before = list.length
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        list.push(operation.message)
        break
      case 'upsert': {
        const at = indexOfId(list, operation.message.id as string)
        if (at >= 0) list[at] = operation.message
        else list.push(operation.message)
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
