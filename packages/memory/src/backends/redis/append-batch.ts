import type { BatchEntry, Operation } from '../../backend.js'
import { MemoryError } from '../../errors.js'
import { type Message, messageTime } from '../../message.js'
import type { RedisLayout } from './layout.js'
import { WRITER_TTL_MS } from './redis-options.js'

/** One bucket's part of a write: its keys and its arguments for the append script. */
export interface AppendGroup {
  readonly keys: string[]
  readonly args: string[]
  conversations: number
  /** The highest sequence number of the group. */
  top: number
  bytes: number
}

/** A batch laid out for the append script (scripts.ts), one group per bucket. */
export interface AppendPlan {
  readonly groups: AppendGroup[]
  /** Bytes of the messages' JSON, over the batch and per entry (in batch order). */
  readonly bytes: number
  readonly entryBytes: number[]
  /** Messages and operations in the batch. */
  readonly changes: number
  /** The first sequence number this batch did not use. */
  readonly nextSeq: number
}

/**
 * The objects whose sequence numbers an entry carries, in the order they are numbered: each
 * message to append, else each operation's message (the operation itself for a remove). The
 * store retries a failed batch with these same objects, which is how a number is found again.
 */
export function numberedItems(entry: BatchEntry): readonly object[] {
  if (entry.operations === undefined) return entry.messages
  return entry.operations.map((operation) => {
    if (operation.op === 'extend') throw extendRefused()
    return operation.op === 'remove' ? operation : operation.message
  })
}

/** The store sends extend only to a backend that declares Backend.extend; this one does not. */
function extendRefused(): MemoryError {
  return new MemoryError(
    'unsupported',
    'the redis backend cannot apply extend operations (it does not declare Backend.extend); nothing was written.',
  )
}

/** How many messages or operations an entry holds. */
export function entrySize(entry: BatchEntry): number {
  return entry.operations?.length ?? entry.messages.length
}

/**
 * Lays a batch out for the append script. Items keep the sequence number `resent` holds for them
 * (sent by an attempt that failed); the others are numbered from `firstSeq` on, in batch order.
 */
export function planAppend(
  batch: readonly BatchEntry[],
  layout: RedisLayout,
  writerId: string,
  firstSeq: number,
  resent: WeakMap<object, number> | undefined,
): AppendPlan {
  const groups = new Map<number, AppendGroup>()
  const entryBytes: number[] = []
  let nextSeq = firstSeq
  let bytes = 0
  let changes = 0
  for (const entry of batch) {
    const bucket = layout.bucketOf(entry.id)
    let group = groups.get(bucket)
    if (group === undefined) {
      group = {
        keys: [layout.index(bucket), layout.stamps(bucket), layout.writer(bucket, writerId)],
        args: [],
        conversations: 0,
        top: 0,
        bytes: 0,
      }
      groups.set(bucket, group)
    }
    group.keys.push(layout.messages(bucket, entry.id))
    group.conversations++
    const args = group.args
    const operations = entry.operations
    const list = entry.messages
    const count = operations === undefined ? list.length : operations.length
    const at = args.length
    if (operations === undefined) {
      const last = list[list.length - 1]
      args.push(entry.id, 'a', String(count), score(last), stamp(last), '')
    } else {
      args.push(entry.id, 'o', String(count), '', '', '')
    }
    const items = numberedItems(entry)
    let again = ''
    let size = 0
    for (let i = 0; i < count; i++) {
      const operation = operations?.[i]
      const key = items[i] as object
      let seq = resent?.get(key)
      if (seq === undefined) seq = nextSeq++
      else again = again === '' ? String(seq) : `${again},${seq}`
      if (seq > group.top) group.top = seq
      if (operation === undefined) {
        const json = JSON.stringify(key)
        size += Buffer.byteLength(json)
        args.push(json)
      } else {
        size += pushOperation(args, operation)
      }
    }
    args[at + 5] = again
    group.bytes += size
    entryBytes.push(size)
    bytes += size
    changes += count
  }
  return { groups: [...groups.values()], bytes, entryBytes, changes, nextSeq }
}

// Four arguments per operation, as OPERATIONS_LUA reads them: its kind ('a' add, 'u' upsert, 'e'
// upsert of an existing message only, 'r' remove) followed by the needle of
// its id (how the id appears in the stored JSON), the message's JSON, its epoch ms and its
// timestamp. Returns the bytes of the JSON.
function pushOperation(args: string[], operation: Operation): number {
  if (operation.op === 'remove') {
    args.push(`r"id":${JSON.stringify(operation.id)}`, '', '', '')
    return 0
  }
  if (operation.op === 'extend') throw extendRefused()
  const message = operation.message
  const json = JSON.stringify(message)
  const kind =
    operation.op === 'add'
      ? 'a'
      : `${operation.ifPresent === true ? 'e' : 'u'}"id":${JSON.stringify(message.id)}`
  args.push(kind, json, score(message), stamp(message))
  return Buffer.byteLength(json)
}

// A timestamp Date.parse cannot read is never pruned: its score is +inf.
function score(message: Message | undefined): string {
  const time = messageTime(message)
  return Number.isNaN(time) ? '+inf' : String(time)
}

function stamp(message: Message | undefined): string {
  return typeof message?.timestamp === 'string' ? message.timestamp : ''
}

/** The arguments of one append call after the script: the number of keys, the keys, the rest. */
export function appendArguments(
  call: { groups: readonly AppendGroup[]; keys: number },
  maxMessages: number,
): Array<string | number> {
  const argv: Array<string | number> = ['', call.keys]
  for (const group of call.groups) for (const key of group.keys) argv.push(key)
  argv.push(maxMessages, WRITER_TTL_MS)
  for (const group of call.groups) {
    argv.push(group.conversations, group.top)
    for (const arg of group.args) argv.push(arg)
  }
  return argv
}
