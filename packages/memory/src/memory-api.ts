// The public shape of a store: the options of openMemory, the Memory interface, its events and
// counters. Types only; the store that implements them is store.ts.
import type { Backend, CommitCounts, ConversationSummary, RecoveredInfo } from './backend.js'
import type { SaveInfo } from './batch.js'
import type { ConversationId, Message, MessageInput, StoredMessage } from './message.js'
import type { Reply, ReplyInput } from './reply.js'
import type { HistoryOptions } from './token-budget.js'

/** Options of {@link openMemory}. */
export interface MemoryOptions {
  /**
   * Where conversations are kept, chosen by its form: a `.json` (or any other) file is the default
   * file backend (its journal is `<path>.journal`); a `.db`, `.sqlite` or `.sqlite3` file the
   * SQLite backend; a `redis://` or `rediss://` URL the Redis backend. Other URLs are refused.
   * Not allowed together with `backend`.
   * @default 'memory/conversations.json'
   */
  path?: string
  /**
   * Where conversations are kept, such as `memoryBackend()`. Not allowed together with `path`
   * (a call of `openMemory` with both does not compile).
   * @default fileBackend({ path })
   */
  backend?: Backend
  /**
   * Messages kept per conversation; the oldest are dropped beyond it.
   * @default 1000
   */
  maxMessages?: number
  /**
   * Largest accepted message, in bytes of its JSON form; larger ones are refused with a RangeError.
   * @default 1048576
   */
  maxMessageBytes?: number
  /**
   * In batched mode, write as soon as this many messages are pending.
   * @default 5
   */
  saveEvery?: number
  /**
   * In batched mode, the longest a message waits before a write is started (also the retry delay
   * after a failed write).
   * @default 1000
   */
  flushIntervalMs?: number
  /**
   * `'batched'`: `add()` resolves at once and messages are written in batches. `'strict'`:
   * `add()` resolves only once the message is durable; concurrent adds share one write.
   * @default 'batched'
   */
  durability?: 'batched' | 'strict'
  /**
   * Most messages accepted but not yet written. Beyond it `add()` waits until a write makes room;
   * it rejects with code `backpressure` instead while writes are failing.
   * @default 10000
   */
  maxPending?: number
  /**
   * Most bytes (JSON form) of the messages accepted but not yet written, bounding the memory a
   * backlog can take; beyond it `add()` waits or rejects as for `maxPending`. At least
   * `maxMessageBytes`.
   * @default 67108864
   */
  maxPendingBytes?: number
  /**
   * Most bytes (JSON form) of messages handed to the backend in one call (one journal record, one
   * transaction, one Redis script call); a larger backlog is written in several. At least
   * `maxMessageBytes`, at most 268435456.
   * @default 16777216
   */
  maxBatchBytes?: number
  /**
   * Flush on SIGINT, SIGTERM and `beforeExit` (the signal is re-raised afterwards, so the exit
   * code is unchanged). A signal closes the store; `beforeExit` (a script ending without `close()`)
   * writes what is pending and has the file backend complete its snapshot as `close()` would, and
   * leaves the store open. Set to `false` to handle shutdown yourself with `close()`.
   * @default true
   */
  flushOnExit?: boolean
  /** Called after every successful write; same as `memory.on('save', ...)`. */
  onSave?: (info: SaveInfo) => void
  /** Called when a background write fails; same as `memory.on('error', ...)`. */
  onError?: (error: unknown) => void
  /** Called when damaged data was restored, including during open. */
  onRecovered?: (info: RecoveredInfo) => void
  /** Called with handled problems such as a dropped torn journal record; defaults to `process.emitWarning`. */
  onWarning?: (message: string) => void
}

/**
 * The options `openMemory` accepts: `O` (the type of the object given) checked against
 * {@link MemoryOptions}, with two checks an interface cannot make. `path` and `backend` both given
 * (with types that cannot be undefined) fail to compile, as they would fail at run time; a
 * variable typed `MemoryOptions`, or a `path` or `backend` that may be undefined, is still
 * accepted and checked at run time. An unknown option fails to compile as before: a generic
 * parameter would otherwise let it through.
 */
export type CheckedOptions<O extends MemoryOptions> = O &
  (O extends { path: string; backend: Backend }
    ? { backend: 'Not together with path: pass the path to the backend instead' }
    : unknown) & { [K in Exclude<keyof O, keyof MemoryOptions>]: 'not an option of openMemory' }

/** Options of {@link Memory.prune}. */
export interface PruneOptions {
  /** Remove conversations whose newest message is older than this many days. */
  olderThanDays: number
}

/** Counters returned by {@link Memory.stats}. */
export interface MemoryStats {
  /** Backend in use (`file`, `memory`, ...). */
  backend: string
  /** Conversations `history()` shows: those the backend holds, and those with pending messages only. */
  conversations: number
  /**
   * Messages `history()` shows, over all conversations: those the backend holds and the pending
   * ones, each conversation counted up to `maxMessages`.
   */
  messages: number
  /** `messages / conversations`, 0 when empty. */
  averagePerConversation: number
  /** Messages accepted but not yet written. */
  pending: number
  /** Successful writes (one per batch) since open. */
  saves: number
  /** Bytes written since open, snapshots included when the backend reports them. */
  bytesWritten: number
  /** Duration of the last successful write in milliseconds, 0 before the first. */
  lastSaveMs: number
  /** Snapshot rewrites since open (file backend). */
  compactions?: number
  /** Current journal size in bytes (file backend). */
  journalBytes?: number
  /** Snapshot size in bytes (file backend). */
  snapshotBytes?: number
  /** Where the writes since open were committed: main thread or write worker (SQLite backend). */
  commits?: CommitCounts
}

/** Events of a {@link Memory} and their payloads. */
export interface MemoryEvents {
  /** A batch was written. */
  save: SaveInfo
  /**
   * A background write failed (the messages are kept and retried), or, in batched mode, the
   * backend refused a conversation's changes (they are dropped; the next `flush()` rejects too).
   */
  error: unknown
  /** Damaged data was restored. */
  recovered: RecoveredInfo
  /** A handled problem worth knowing about. */
  warning: string
}

/** An open conversation store, returned by {@link openMemory}. */
export interface Memory {
  /**
   * Adds a message to a conversation and resolves with the stored message (timestamp and `id`
   * filled in). An `id` given must not be one of the conversation's changes still pending
   * (`duplicate-id`). Past `maxPending` or `maxPendingBytes` it waits until a write makes room, or
   * rejects with `backpressure` while writes are failing.
   */
  add(id: ConversationId, message: MessageInput): Promise<StoredMessage>
  /**
   * Adds several messages to a conversation, in order, and resolves with the stored messages.
   * Every message is checked first: if one is not valid (the error names its index) or repeats an
   * id, none is added. Then each is added as by `add()` (maxMessages, the pending limits and
   * durability apply the same way), without an `await` per message: with `durability: 'strict'`
   * they are made durable together, one write when they fit in `maxPending` and `maxBatchBytes`.
   * While writes are failing it rejects with `backpressure` as `add()` does; the messages accepted
   * before then stay pending and are written once writes succeed.
   */
  addMany(id: ConversationId, messages: readonly MessageInput[]): Promise<StoredMessage[]>
  /**
   * Replaces the message with `message.id` in the conversation, or appends it when the
   * conversation has none, and resolves with the stored message. Batched and durable as `add()`.
   */
  upsert(id: ConversationId, message: MessageInput & { id: string }): Promise<StoredMessage>
  /**
   * Deletes the message `messageId` from the conversation; resolves `true` if it was there,
   * `false` (nothing written) if not. Batched and durable as `add()`.
   */
  remove(id: ConversationId, messageId: string): Promise<boolean>
  /**
   * Starts a reply that is streamed into the conversation: its message is added now (with
   * `unfinished: true`), `append()` adds text as it arrives, written at most once per
   * `flushIntervalMs`, and `end()` stores the final message. `history()` shows the text so far.
   * Needs a backend with `operations`.
   *
   * @example
   * ```ts
   * const reply = memory.reply(chatId, { role: 'assistant' })
   * for await (const delta of stream) reply.append(delta)
   * await reply.end()
   * ```
   */
  reply(id: ConversationId, message?: ReplyInput): Reply
  /** Messages of a conversation, oldest first; `[]` for an unknown conversation. */
  history(id: ConversationId, options?: HistoryOptions): Promise<Message[]>
  /** The history as prompt text, one `role: content` line per message. */
  context(id: ConversationId, options?: HistoryOptions): Promise<string>
  /** Deletes a conversation; resolves `true` if it existed. */
  clear(id: ConversationId): Promise<boolean>
  /** Deletes conversations idle for longer than `olderThanDays`; resolves with how many. */
  prune(options: PruneOptions): Promise<number>
  /** Lists the conversations the backend holds (pending writes are flushed first when possible). */
  conversations(): AsyncIterable<ConversationSummary>
  /** Counters about the store and its backend. */
  stats(): Promise<MemoryStats>
  /**
   * Writes everything pending now; resolves once every change accepted before the call is
   * written. Rejects with a `MemoryError` naming the file and cause when a write fails (the
   * changes are kept and retried), or, in batched mode, when the backend refused a conversation's
   * changes and they were dropped (such as a damaged conversation, code `corrupt`; every other
   * conversation is written): the error names each conversation and is reported by the calls made
   * until one has reported it. After `close()` it resolves with nothing to do; after `destroy()`,
   * which dropped what was pending, it rejects with `closed`.
   */
  flush(): Promise<void>
  /**
   * Flushes, then releases the backend (and its lock); idempotent. If a write fails it rejects
   * and the store stays open with every message kept, so close() can be called again. If the
   * backend refused changes (see `flush()`), it closes the store, then rejects with that error.
   */
  close(): Promise<void>
  /** Releases the backend now, dropping pending messages. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using memory = await openMemory(...)`. */
  [Symbol.asyncDispose](): Promise<void>
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof MemoryEvents>(event: E, listener: (payload: MemoryEvents[E]) => void): () => void
  /** Unsubscribes a listener added with `on`. */
  off<E extends keyof MemoryEvents>(event: E, listener: (payload: MemoryEvents[E]) => void): void
}
