import type { MemoryError } from './errors.js'
import type { Message } from './message.js'

/** What a backend learns from the store when it is opened. */
export interface BackendContext {
  /** Messages kept per conversation; a backend drops the oldest beyond this on `append`. */
  readonly maxMessages: number
  /** Reports a problem that was handled (for example a torn journal record that was dropped). */
  warn(message: string): void
  /** Reports that data was restored after damage was found at open. */
  recovered(info: RecoveredInfo): void
  /**
   * Asks the store to write its pending messages now instead of waiting for `saveEvery` or
   * `flushIntervalMs`, for example when a networked backend has reconnected after an outage.
   * Fire and forget: a failed write is reported through the store's `error` event. Optional so
   * that a hand-made context (in a backend's own tests) may leave it out.
   */
  requestFlush?(): void
  /**
   * The store's `durability`: in `strict` mode each add waits for its write, so a backend may
   * favour the latency of small writes (the SQLite backend then commits them on the main thread).
   * Optional so that a hand-made context may leave it out.
   */
  readonly durability?: 'batched' | 'strict'
}

/** What was repaired at open, passed to the `recovered` event. */
export interface RecoveredInfo {
  /** The damaged file or resource. */
  readonly source: string
  /** Where the damaged data was kept for inspection, if it was kept. */
  readonly keptAs?: string
  /** Where the data was restored from. */
  readonly restoredFrom: string
  /** Human-readable summary. */
  readonly message: string
  /** True when some data may be missing (for example journal records older than the backup). */
  readonly dataMayBeMissing: boolean
}

/**
 * One change to a conversation: append a message, replace the message with the same `id` (or
 * append it when there is none; with `ifPresent`, nothing when there is none), delete the message
 * with this `id` (nothing when there is none), or append `text` to the content of the message with
 * this `id` (nothing when there is none), with `finish` also deleting its `unfinished` field: the
 * parts of a streamed reply.
 */
export type Operation =
  | { readonly op: 'add'; readonly message: Message }
  | {
      readonly op: 'upsert'
      readonly message: Message
      /**
       * Replace only: when the conversation no longer has the message, nothing. The store sends it
       * for the later parts of a streamed reply written whole (on a backend without `extend`), so
       * a reply that `maxMessages` pushed out, or that was removed, is not added again. A backend
       * that ignores the flag adds such a reply back as its newest message.
       */
      readonly ifPresent?: true
    }
  | { readonly op: 'remove'; readonly id: string }
  | { readonly op: 'extend'; readonly id: string; readonly text: string; readonly finish?: true }

/** All pending changes of one conversation, oldest first, within a batch (each id appears once per batch). */
export interface BatchEntry {
  /** The conversation key (see {@link Backend}). */
  readonly id: string
  /** Messages to append, oldest first; never empty unless `operations` is given. */
  readonly messages: readonly Message[]
  /**
   * The changes in order, given (with `messages` empty) only when the entry holds an upsert, a
   * remove or an extend, and only to a backend with {@link Backend.operations} (extends only to
   * one with {@link Backend.extend}); an entry of appends alone always comes as `messages`.
   */
  readonly operations?: readonly Operation[]
}

/** What a backend reports after a batch was written. */
export interface AppendResult {
  /** Bytes written to storage for this batch (an estimate is fine for remote backends). */
  readonly bytes: number
  /**
   * Conversations of the batch that were not written, by key, each with the error that says why
   * (such as a Redis key of another type in the way); every other entry was written. None of
   * their messages is visible afterwards. Left out when every entry was written.
   */
  readonly failed?: ReadonlyMap<string, MemoryError>
}

/** One conversation as listed by {@link Backend.conversations}. */
export interface ConversationSummary {
  /** The conversation key. */
  readonly id: string
  /**
   * How many messages the backend holds for it: more than `maxMessages` for a store written with a
   * larger limit, until the conversation's next write trims it (`stats()` counts up to
   * `maxMessages`, as `history()` shows them; `migrate()` needs what is held).
   */
  readonly messages: number
  /** The timestamp of its newest message, if it has one. */
  readonly lastTimestamp?: string
}

/** Counters a backend reports; optional fields are backend-specific. */
export interface BackendStats {
  /** Conversations held. */
  readonly conversations: number
  /** Messages held, over all conversations. */
  readonly messages: number
  /** Bytes written to storage since open, compaction included. */
  readonly bytesWritten?: number
  /** Snapshot rewrites since open (file backend). */
  readonly compactions?: number
  /** Current size of the journal in bytes (file backend). */
  readonly journalBytes?: number
  /** Size of the last written or loaded snapshot in bytes (file backend). */
  readonly snapshotBytes?: number
  /** Where the writes since open were committed (SQLite backend). */
  readonly commits?: CommitCounts
}

/**
 * Where a backend's writes since open were committed: on the event loop's thread or on a worker
 * thread, and how many of those on the worker were meant for the main thread but handed over.
 */
export interface CommitCounts {
  /** Writes committed on the main thread (the event loop's). */
  readonly mainThread: number
  /** Writes committed on the write worker. */
  readonly worker: number
  /** Of `worker`: small writes handed over because another connection held the database locked. */
  readonly handedOverBusy: number
  /** Of `worker`: small writes handed over because commits on the main thread had become slow. */
  readonly handedOverSlow: number
}

/**
 * Where a store keeps its conversations. The store batches writes and calls the backend
 * serially: it never starts a call before the previous one settled, so a backend needs no locking
 * of its own against the store. Reads are served by the backend, so several processes sharing
 * one backend (such as Redis) see each other's writes.
 *
 * Conversation keys are non-empty strings (numbers are turned into their decimal string by the
 * store). Keys such as `__proto__` are ordinary conversations. Messages are plain JSON objects;
 * a backend keeps every field of them and must not mutate them; arrays it returns may be shared
 * with its own state only if it never mutates them afterwards.
 */
export interface Backend {
  /** Short name used in messages, such as `file` or `memory`. */
  readonly name: string
  /**
   * True when `append` applies {@link BatchEntry.operations} (upserts and removes by message id).
   * Without it, the store's `upsert()` and `remove()` reject with code `unsupported`.
   */
  readonly operations?: boolean
  /**
   * True when `append` also applies `extend` operations (text appended to a message by id), so a
   * streamed reply costs about its new text per write. Without it the store writes each part of a
   * reply as an upsert of the whole message so far. Only read when `operations` is true.
   */
  readonly extend?: boolean
  /**
   * Prepares the backend (load, connect, lock). Called once, before any other method. Rejects with
   * a `MemoryError` (`locked`, `corrupt`, `io`, `backend-unavailable`) when it cannot be used.
   */
  open(context: BackendContext): Promise<void>
  /**
   * Appends every entry of the batch (or applies its operations), in order per conversation, then
   * trims each conversation to `maxMessages` (oldest dropped). Resolves once the batch is durable as far as the backend can
   * make it; rejects with a `MemoryError` naming the resource and cause, in which case none of the
   * batch may be visible afterwards (the store keeps or retries it). A fault that concerns some
   * conversations only is reported in {@link AppendResult.failed} instead, so the others are
   * written. A batch holds at most the store's `maxBatchBytes` of messages (JSON form); a larger
   * backlog comes as several calls. Anything thrown that is not a `MemoryError` reaches the caller
   * as one, with code `io`.
   */
  append(batch: readonly BatchEntry[]): Promise<AppendResult>
  /** The last `limit` messages of a conversation (all when omitted), oldest first; `[]` if unknown. */
  read(id: string, limit?: number): Promise<Message[]>
  /** Deletes a conversation; resolves `true` if it existed. */
  clear(id: string): Promise<boolean>
  /** Lists every conversation with its size and newest timestamp (used by `prune`, `stats` and migration). */
  conversations(): AsyncIterable<ConversationSummary>
  /**
   * True when the backend keeps conversation `id`, even with no message left (after `remove()` of
   * its last one): `stats()` then counts it once when new messages for it are pending. Optional:
   * without it the store takes a conversation with no stored message for one the backend does not
   * list, as a Redis list that is deleted with its last element.
   */
  has?(id: string): Promise<boolean>
  /**
   * Deletes the conversations whose newest message is older than `cutoff` (epoch milliseconds)
   * and resolves with their keys. Optional: without it the store lists and clears.
   */
  prune?(cutoff: number): Promise<string[]>
  /** Counts, served by the backend. Optional: without it the store counts via `conversations()`. */
  stats?(): Promise<BackendStats>
  /**
   * Makes the main file complete for readers of it alone, such as the file backend's snapshot for
   * the Python bot. Optional: a backend without a separate journal has nothing to do.
   */
  completeSnapshot?(): Promise<void>
  /**
   * Called on `beforeExit` (with `flushOnExit`) once what was pending is written, for a process
   * ending without `close()`: does to the main file what `close()` would, and stays open, since
   * code may run after `beforeExit`. It fires again after each turn that did I/O, so with nothing
   * new since the last call (or since a failed attempt) this must do no I/O. Optional.
   */
  completeAtExit?(): Promise<void>
  /** Writes what the backend still buffers and releases its resources; idempotent. */
  close(): Promise<void>
  /** Releases resources without any further write (used by `destroy()`). Optional; defaults to `close`. */
  destroy?(): Promise<void>
}
