import type { Operation } from '../backend.js'
import type { Message } from '../message.js'

/** Where the message with `id` is in `list`, newest first (the usual target), or -1. */
export function indexOfId(list: readonly Message[], id: string): number {
  for (let i = list.length - 1; i >= 0; i--) if ((list[i] as Message).id === id) return i
  return -1
}

/**
 * Applies operations to a conversation's list in place, in order: the one meaning of add, upsert
 * and remove for every backend that keeps lists in memory. Returns the change in its length.
 */
export function applyOperations(list: Message[], operations: readonly Operation[]): number {
  const before = list.length
  for (const operation of operations) {
    if (operation.op === 'add') {
      list.push(operation.message)
      continue
    }
    const at = indexOfId(list, operation.op === 'remove' ? operation.id : (operation.message.id as string))
    if (operation.op === 'remove') {
      if (at >= 0) list.splice(at, 1)
    } else if (at >= 0) list[at] = operation.message
    else list.push(operation.message)
  }
  return list.length - before
}
