import { isMemoryError } from '../../errors.js'
import type { Message } from '../../message.js'
import { assignLegacyIds, hasId } from '../../message-id.js'
import { applyOperations, extendMessage } from '../operations.js'
import type { OverLimit } from '../over-limit.js'
import { dropOldest } from '../trim.js'
import { readPrefixSync, writeAtomicChunksSync } from './atomic-write-sync.js'
import { DeferredConversation } from './deferred-conversation.js'
import { assertHeapRoom } from './heap-room.js'
import { type JournalRecord, parseJournal } from './journal.js'
import { snapshotChunks } from './legacy-format.js'
import { readSnapshotSync } from './read-snapshot.js'
import { currentIdentitySync, type SnapshotIdentity } from './snapshot-identity.js'

// Small pieces of text: a paced compaction fits several in one slice of its turn.
export const CHUNK_CHARS = 4 * 1024

/** A conversation in memory: its messages, or the bytes of a loaded one not used yet. */
export type StoredList = Message[] | DeferredConversation

/** How many messages a conversation holds, parsed or not. */
export function sizeOf(stored: StoredList): number {
  return stored instanceof DeferredConversation ? stored.count : stored.length
}

/** The newest message of a conversation, parsed or not. */
export function newestOf(stored: StoredList): Message | undefined {
  return stored instanceof DeferredConversation ? stored.last : stored[stored.length - 1]
}

/**
 * Lists that {@link applyRecord} must not simply change in place. `frozen`: lists a compaction is
 * writing, replaced by a copy instead. `withoutIds`: lists loaded from a snapshot whose messages
 * may lack ids; their legacy ids are derived on the first change, from the list as loaded.
 */
export interface ListGuards {
  readonly frozen?: WeakSet<Message[]> | undefined
  readonly withoutIds?: WeakSet<Message[]> | undefined
  /** Lists parsed from a snapshot at open whose messages {@link checkLoaded} has not checked yet. */
  readonly unchecked?: WeakSet<Message[]> | undefined
  /**
   * Throws when a message of a conversation loaded from a snapshot cannot be handed out (see
   * `snapshotMessageProblem`); called before its first use, so opening never checks every message.
   * Left out while the journal is replayed at open (the lists parsed then join `unchecked`, so
   * one conversation cannot stop the store from opening) and by the compaction worker, whose
   * rewrite carries every conversation over as it is.
   */
  readonly checkLoaded?: ((id: string, list: readonly Message[]) => void) | undefined
  /**
   * How many messages were dropped from the front of an `unchecked` list since it was read from
   * the snapshot (trimmed to `maxMessages` at open or while the journal is replayed), so that
   * {@link checkLoaded} names a message by its place in the file.
   */
  readonly trimmed?: WeakMap<Message[], number> | undefined
}

/** Counts `excess` messages dropped from the front of `list` (see {@link ListGuards.trimmed}). */
function noteTrimmed(guards: ListGuards, list: Message[], excess: number): void {
  if (guards.trimmed === undefined || guards.unchecked?.has(list) !== true) return
  guards.trimmed.set(list, (guards.trimmed.get(list) ?? 0) + excess)
}

/**
 * The list of conversation `id` ready for `use`, `undefined` when there is none (an empty one is
 * made for `'create'`): for a change, a copy in place of a frozen list; for any use, with the legacy
 * ids of a loaded list derived first. Deriving them here, not at open, spares opening a large
 * Python file an id per message (most conversations are never touched) and gives the same ids:
 * until this runs, a loaded list is as the snapshot holds it.
 */
export function listFor(
  use: 'read' | 'change' | 'create',
  conversations: Map<string, StoredList>,
  id: string,
  guards: ListGuards,
): Message[] | undefined {
  let list = conversations.get(id)
  if (list === undefined) {
    if (use !== 'create') return undefined
    list = []
    conversations.set(id, list)
    return list
  }
  if (list instanceof DeferredConversation) {
    // Parsed just now: nobody else holds these messages. Refused, it stays bytes, refused again.
    const parsed = list.parse()
    if (guards.checkLoaded !== undefined) guards.checkLoaded(id, parsed)
    else guards.unchecked?.add(parsed)
    assignLegacyIds(parsed, { inPlace: true })
    conversations.set(id, parsed)
    return parsed
  }
  if (guards.checkLoaded !== undefined && guards.unchecked?.has(list) === true) {
    guards.checkLoaded(id, list)
    guards.unchecked.delete(list)
  }
  const withoutIds = guards.withoutIds?.has(list) === true
  if (guards.frozen?.has(list) === true && (withoutIds || use !== 'read')) {
    const copy = list.slice()
    conversations.set(id, copy)
    if (guards.unchecked?.has(list) === true) {
      guards.unchecked.add(copy)
      const trimmed = guards.trimmed?.get(list)
      if (trimmed !== undefined) guards.trimmed?.set(copy, trimmed)
    }
    if (withoutIds) {
      guards.withoutIds?.delete(list)
      // The messages are being written too: those that need an id are copied, not changed.
      assignLegacyIds(copy)
    }
    return copy
  }
  if (withoutIds) {
    guards.withoutIds?.delete(list)
    assignLegacyIds(list, { inPlace: true })
  }
  return list
}

/**
 * Applies one journal record to `conversations`, trimming each to `maxMessages`. See
 * {@link ListGuards} for the lists it copies or gives ids before changing them. Returns the change
 * in the number of messages.
 */
export function applyRecord(
  conversations: Map<string, StoredList>,
  record: JournalRecord,
  maxMessages: number,
  guards: ListGuards = {},
): number {
  let delta = 0
  if (record.a !== undefined) {
    for (const [id, messages] of record.a) {
      const list = listFor('create', conversations, id, guards) as Message[]
      let withoutId = false
      for (const message of messages) {
        list.push(message)
        if (!hasId(message)) withoutId = true
      }
      // Messages journaled by a release without ids get theirs here, the same at every replay.
      if (withoutId) assignLegacyIds(list)
      delta += messages.length
      const excess = list.length - maxMessages
      if (excess > 0) {
        dropOldest(list, excess)
        delta -= excess
        if (guards.trimmed !== undefined) noteTrimmed(guards, list, excess)
      }
    }
  }
  if (record.o !== undefined) {
    for (const [id, operations] of record.o) {
      const list = listFor('create', conversations, id, guards) as Message[]
      delta += applyOperations(list, operations, maxMessages, (excess) => {
        if (guards.trimmed !== undefined) noteTrimmed(guards, list, excess)
      })
      const excess = list.length - maxMessages
      if (excess > 0) {
        dropOldest(list, excess)
        delta -= excess
        if (guards.trimmed !== undefined) noteTrimmed(guards, list, excess)
      }
    }
  }
  if (record.x !== undefined) {
    for (const [id, messageId, text, finish] of record.x) {
      const list = listFor('change', conversations, id, guards)
      // A part of a reply whose conversation was cleared meanwhile: nothing to extend.
      if (list === undefined) continue
      extendMessage(list, messageId, text, finish === 1)
    }
  }
  if (record.c !== undefined) {
    for (const id of record.c) {
      const list = conversations.get(id)
      if (list === undefined) continue
      delta -= sizeOf(list)
      conversations.delete(id)
    }
  }
  return delta
}

/**
 * Trims the lists just loaded from a snapshot to `maxMessages` and marks those already parsed in
 * `withoutIds` and all parsed ones in `unchecked`, counting what is dropped in `trimmed` (see
 * {@link ListGuards}). A list that must be trimmed is parsed and gets its ids first, as the ids
 * depend on the list as the snapshot holds it. Counts the lists longer than `maxMessages` in
 * `overLimit`, for the warning at open. Returns the number of messages kept.
 */
export function prepareLoaded(
  conversations: Map<string, StoredList>,
  maxMessages: number,
  guards: {
    readonly withoutIds: WeakSet<Message[]>
    readonly unchecked: WeakSet<Message[]>
    readonly trimmed: WeakMap<Message[], number>
  },
  overLimit?: OverLimit,
): number {
  const { withoutIds, unchecked, trimmed } = guards
  let messages = 0
  for (const [id, stored] of conversations) {
    const excess = sizeOf(stored) - maxMessages
    if (excess > 0) {
      if (overLimit !== undefined) {
        overLimit.conversations++
        if (sizeOf(stored) > overLimit.longest) {
          overLimit.longest = sizeOf(stored)
          overLimit.longestId = id
        }
      }
      const list = stored instanceof DeferredConversation ? stored.parse() : stored
      assignLegacyIds(list, { inPlace: true })
      dropOldest(list, excess)
      conversations.set(id, list)
      unchecked.add(list)
      trimmed.set(list, excess)
    } else if (!(stored instanceof DeferredConversation)) {
      withoutIds.add(stored)
      unchecked.add(stored)
    }
    messages += sizeOf(stored) - Math.max(0, excess)
  }
  return messages
}

/** What a compaction from disk must reproduce: the store as of journal record `seq`. */
export interface CompactionJob {
  /** The snapshot to rewrite. */
  path: string
  journalPath: string
  /** Length of the journal prefix that holds every record up to `seq`. */
  journalBytes: number
  seq: number
  maxMessages: number
  /**
   * Shared with the backend (one Int32 on a SharedArrayBuffer), so a job can be called off without
   * a race: the worker renames only after changing it from {@link CLAIM_OPEN} to
   * {@link CLAIM_COMMITTING}; the backend calls the job off by changing it to {@link CLAIM_CALLED_OFF}.
   * Whoever changes it first wins, so a late rename can never replace a newer snapshot.
   */
  claim?: Int32Array
  /**
   * The snapshot's identity as the backend last read or wrote it (see `SnapshotIdentity`); when
   * given and the file differs, before it is read or just before the rename, the job fails with
   * {@link ForeignSnapshotError}: another program wrote the file, and the backend keeps it aside.
   */
  expectIdentity?: SnapshotIdentity
}

export const CLAIM_OPEN = 0
export const CLAIM_COMMITTING = 1
export const CLAIM_CALLED_OFF = 2

/** The files did not hold the state the job describes; nothing was written. */
export class CompactionMismatchError extends Error {}

/** The snapshot is not the one the job expects: another program wrote it. Nothing was written. */
export class ForeignSnapshotError extends CompactionMismatchError {
  constructor(message = 'the snapshot was written by another program since the store last wrote it') {
    super(message)
  }
}

/**
 * Rebuilds the store as of `job.seq` from the snapshot and the journal prefix on disk, the same way
 * opening the store does, and writes it as the new snapshot (atomically). Runs on the compaction
 * worker thread, blocking it: the main thread neither formats nor holds the text, and its journal
 * appends never wait behind this write in the libuv pool. Returns the bytes written.
 */
export function compactFromDisk(job: CompactionJob, renamed?: (identity: SnapshotIdentity) => void): number {
  const expected = job.expectIdentity
  // Before parsing: a file another program wrote may not even parse, and that is no damage.
  if (expected !== undefined && currentIdentitySync(job.path) !== expected) throw new ForeignSnapshotError()
  let snapshot: ReturnType<typeof readSnapshotSync>
  try {
    snapshot = readSnapshotSync(job.path, (bytes) => assertHeapRoom(job.path, bytes + job.journalBytes))
  } catch (error) {
    // The worker has a heap of its own: when the store does not fit there, the main thread writes.
    if (isMemoryError(error, 'too-large')) throw new CompactionMismatchError(error.message)
    throw error
  }
  if (expected !== undefined && (snapshot?.identity ?? null) !== expected) throw new ForeignSnapshotError()
  const data = snapshot?.data ?? { conversations: new Map<string, Message[]>(), extras: [], seq: 0 }
  const conversations = data.conversations
  for (const list of conversations.values()) {
    // Before trimming, as at open. Every list, unlike at open: this thread does not delay the store,
    // and the rewrite then keeps the ids, so they no longer depend on the file staying unchanged.
    assignLegacyIds(list, { inPlace: true })
    dropOldest(list, list.length - job.maxMessages)
  }
  const journal = readPrefixSync(job.journalPath, job.journalBytes)
  if (journal === undefined) {
    throw new CompactionMismatchError(`the journal is shorter than ${job.journalBytes} bytes`)
  }
  const { records, tornBytes, damaged } = parseJournal(journal)
  if (tornBytes > 0) throw new CompactionMismatchError(`the journal prefix ends in ${tornBytes} torn bytes`)
  if (damaged.length > 0) {
    throw new CompactionMismatchError(`the journal prefix holds ${damaged.length} damaged records`)
  }
  let seq = data.seq
  for (const record of records) {
    if (record.s <= seq) continue
    applyRecord(conversations, record, job.maxMessages)
    seq = record.s
  }
  if (seq !== job.seq) {
    throw new CompactionMismatchError(`the files hold the store up to record ${seq}, not ${job.seq}`)
  }
  const claim = job.claim
  return writeAtomicChunksSync(
    job.path,
    snapshotChunks(conversations, data.extras, seq, CHUNK_CHARS),
    (temp) => {
      if (expected !== undefined && currentIdentitySync(job.path) !== expected)
        throw new ForeignSnapshotError()
      const committing =
        claim === undefined || Atomics.compareExchange(claim, 0, CLAIM_OPEN, CLAIM_COMMITTING) === CLAIM_OPEN
      // The rename keeps the temp file's identity: known now, before another program can write it.
      if (committing) renamed?.(currentIdentitySync(temp))
      return committing
    },
  )
}
