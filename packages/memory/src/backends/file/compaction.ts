import { isMemoryError } from '../../errors.js'
import type { Message } from '../../message.js'
import { assignLegacyIds, hasId } from '../../message-id.js'
import { applyOperations, extendMessage } from '../operations.js'
import { dropOldest } from '../trim.js'
import { readPrefixSync, writeAtomicChunksSync } from './atomic-write-sync.js'
import { assertHeapRoom } from './heap-room.js'
import { type JournalRecord, parseJournal } from './journal.js'
import { snapshotChunks } from './legacy-format.js'
import { readSnapshotSync } from './read-snapshot.js'

// Small pieces of text: a paced compaction fits several in one slice of its turn.
export const CHUNK_CHARS = 4 * 1024

/**
 * Applies one journal record to `conversations`, trimming each to `maxMessages`. A list in
 * `frozen` is being written by a compaction: it is replaced by a copy instead of being changed.
 * Returns the change in the number of messages.
 */
export function applyRecord(
  conversations: Map<string, Message[]>,
  record: JournalRecord,
  maxMessages: number,
  frozen?: WeakSet<Message[]>,
): number {
  let delta = 0
  if (record.a !== undefined) {
    for (const [id, messages] of record.a) {
      let list = conversations.get(id)
      if (list === undefined) {
        list = []
        conversations.set(id, list)
      } else if (frozen?.has(list) === true) {
        list = list.slice()
        conversations.set(id, list)
      }
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
      }
    }
  }
  if (record.o !== undefined) {
    for (const [id, operations] of record.o) {
      let list = conversations.get(id)
      if (list === undefined) {
        list = []
        conversations.set(id, list)
      } else if (frozen?.has(list) === true) {
        list = list.slice()
        conversations.set(id, list)
      }
      delta += applyOperations(list, operations)
      const excess = list.length - maxMessages
      if (excess > 0) {
        dropOldest(list, excess)
        delta -= excess
      }
    }
  }
  if (record.x !== undefined) {
    for (const [id, messageId, text, finish] of record.x) {
      let list = conversations.get(id)
      // A part of a reply whose conversation was cleared meanwhile: nothing to extend.
      if (list === undefined) continue
      if (frozen?.has(list) === true) {
        list = list.slice()
        conversations.set(id, list)
      }
      extendMessage(list, messageId, text, finish === 1)
    }
  }
  if (record.c !== undefined) {
    for (const id of record.c) {
      const list = conversations.get(id)
      if (list === undefined) continue
      delta -= list.length
      conversations.delete(id)
    }
  }
  return delta
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
}

export const CLAIM_OPEN = 0
export const CLAIM_COMMITTING = 1
export const CLAIM_CALLED_OFF = 2

/** The files did not hold the state the job describes; nothing was written. */
export class CompactionMismatchError extends Error {}

/**
 * Rebuilds the store as of `job.seq` from the snapshot and the journal prefix on disk, the same way
 * opening the store does, and writes it as the new snapshot (atomically). Runs on the compaction
 * worker thread, blocking it: the main thread neither formats nor holds the text, and its journal
 * appends never wait behind this write in the libuv pool. Returns the bytes written.
 */
export function compactFromDisk(job: CompactionJob): number {
  let snapshot: ReturnType<typeof readSnapshotSync>
  try {
    snapshot = readSnapshotSync(job.path, (bytes) => assertHeapRoom(job.path, bytes + job.journalBytes))
  } catch (error) {
    // The worker has a heap of its own: when the store does not fit there, the main thread writes.
    if (isMemoryError(error, 'too-large')) throw new CompactionMismatchError(error.message)
    throw error
  }
  const data = snapshot?.data ?? { conversations: new Map<string, Message[]>(), extras: [], seq: 0 }
  const conversations = data.conversations
  for (const list of conversations.values()) {
    // Before trimming, as at open: the ids depend on the list as the snapshot holds it.
    assignLegacyIds(list, { inPlace: true })
    const excess = list.length - job.maxMessages
    dropOldest(list, excess)
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
    () =>
      claim === undefined || Atomics.compareExchange(claim, 0, CLAIM_OPEN, CLAIM_COMMITTING) === CLAIM_OPEN,
  )
}
