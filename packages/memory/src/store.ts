import type { Backend, BackendStats, ConversationSummary, RecoveredInfo } from './backend.js'
import { fileBackend } from './backends/file/file-backend.js'
import { indexOfId } from './backends/operations.js'
import { redisBackend } from './backends/redis/redis-backend.js'
import { sqliteBackend } from './backends/sqlite/sqlite-backend.js'
import { Batcher, type SaveInfo } from './batch.js'
import { MemoryError } from './errors.js'
import { registerExitHooks, unregisterExitHooks } from './exit-hooks.js'
import { locate } from './location.js'
import {
  type ConversationId,
  checkMessageId,
  conversationKey,
  isoNow,
  type Message,
  type MessageInput,
  type StoredMessage,
  show,
  toMessage,
} from './message.js'
import {
  booleanOption,
  knownOptions,
  nonEmptyString,
  oneOf,
  optionalFunction,
  positiveInteger,
} from './options.js'
import { SerialQueue } from './serial-queue.js'
import {
  contextLine,
  type HistoryOptions,
  historyOptions,
  pickWithinBudget,
  type TokenBudget,
} from './token-budget.js'

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
   * Where conversations are kept, such as `memoryBackend()`.
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
   * code is unchanged). Set to `false` to handle shutdown yourself with `close()`.
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
}

/** Events of a {@link Memory} and their payloads. */
export interface MemoryEvents {
  /** A batch was written. */
  save: SaveInfo
  /** A background write failed; the messages are kept and retried. */
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
   * Replaces the message with `message.id` in the conversation, or appends it when the
   * conversation has none, and resolves with the stored message. Batched and durable as `add()`.
   */
  upsert(id: ConversationId, message: MessageInput & { id: string }): Promise<StoredMessage>
  /**
   * Deletes the message `messageId` from the conversation; resolves `true` if it was there,
   * `false` (nothing written) if not. Batched and durable as `add()`.
   */
  remove(id: ConversationId, messageId: string): Promise<boolean>
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
  /** Writes everything pending now; rejects with a `MemoryError` naming the file and cause on failure. */
  flush(): Promise<void>
  /**
   * Flushes, then releases the backend (and its lock); idempotent. If the flush fails it rejects
   * and the store stays open with every message kept, so close() can be called again.
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

const OPTION_NAMES = new Set([
  'path',
  'backend',
  'maxMessages',
  'maxMessageBytes',
  'saveEvery',
  'flushIntervalMs',
  'durability',
  'maxPending',
  'maxPendingBytes',
  'maxBatchBytes',
  'flushOnExit',
  'onSave',
  'onError',
  'onRecovered',
  'onWarning',
])

const DEFAULT_PATH = 'memory/conversations.json'
const DAY_MS = 86_400_000
const MAX_TIMER_MS = 2_147_483_647
// Far below V8's longest string (about 512 MB, the bound of a journal record's text) and Redis's
// 512 MB bulk string, also when every character of a message takes several bytes.
const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024
const MAX_BATCH_BYTES = 256 * 1024 * 1024
const DEFAULT_PENDING_BYTES = 64 * 1024 * 1024
// What an upsert or a remove spends in a journal record or command beyond its message or id.
const OPERATION_OVERHEAD = 24

interface ResolvedOptions {
  backend: Backend
  maxMessages: number
  maxMessageBytes: number
  saveEvery: number
  flushIntervalMs: number
  durability: 'batched' | 'strict'
  maxPending: number
  maxPendingBytes: number
  maxBatchBytes: number
  flushOnExit: boolean
  onSave: ((info: SaveInfo) => void) | undefined
  onError: ((error: unknown) => void) | undefined
  onRecovered: ((info: RecoveredInfo) => void) | undefined
  onWarning: ((message: string) => void) | undefined
}

const FILE_OPTION = 'fileBackend(): openMemory({ backend: fileBackend({ path, ... }) })'
const SQLITE_OPTION =
  "sqliteBackend() from '@taurobot/memory/sqlite': openMemory({ backend: sqliteBackend({ path, ... }) })"
const REDIS_OPTION =
  "redisBackend() from '@taurobot/memory/redis': openMemory({ backend: redisBackend({ url, ... }) })"
// Backend options given to openMemory by mistake: the error says where they go.
const BACKEND_OPTIONS: Record<string, string> = {
  compactionRatio: FILE_OPTION,
  compactionMinBytes: FILE_OPTION,
  compactionWorker: FILE_OPTION,
  journalSync: FILE_OPTION,
  compactOnClose: FILE_OPTION,
  busyTimeoutMs: SQLITE_OPTION,
  worker: SQLITE_OPTION,
  database: SQLITE_OPTION,
  url: REDIS_OPTION,
  client: REDIS_OPTION,
  keyPrefix: REDIS_OPTION,
  buckets: REDIS_OPTION,
  connectTimeoutMs: REDIS_OPTION,
  commandTimeoutMs: REDIS_OPTION,
  waitReplicas: REDIS_OPTION,
  waitTimeoutMs: REDIS_OPTION,
}

function resolveOptions(options: unknown): ResolvedOptions {
  const o = knownOptions(options, OPTION_NAMES, BACKEND_OPTIONS)
  if (o.path !== undefined && o.backend !== undefined) {
    throw new TypeError(
      'options path and backend cannot be used together: pass the path to the backend instead',
    )
  }
  let backend: Backend | undefined
  let path: string | undefined
  if (o.backend !== undefined) {
    const b = o.backend as Partial<Backend> | null
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.open !== 'function' ||
      typeof b.append !== 'function' ||
      typeof b.read !== 'function' ||
      typeof b.clear !== 'function' ||
      typeof b.conversations !== 'function' ||
      typeof b.close !== 'function'
    ) {
      throw new TypeError(`backend must be a Backend such as memoryBackend(), got ${show(o.backend)}`)
    }
    backend = b as Backend
  } else {
    path = nonEmptyString('path', o.path, DEFAULT_PATH)
  }
  const durability = oneOf('durability', o.durability, ['batched', 'strict'], 'batched')
  const flushOnExit = booleanOption('flushOnExit', o.flushOnExit, true)
  const saveEvery = positiveInteger('saveEvery', o.saveEvery, 5)
  const maxPending = positiveInteger('maxPending', o.maxPending, 10_000)
  const onSave = optionalFunction<(info: SaveInfo) => void>('onSave', o.onSave)
  const onError = optionalFunction<(error: unknown) => void>('onError', o.onError)
  const onRecovered = optionalFunction<(info: RecoveredInfo) => void>('onRecovered', o.onRecovered)
  const onWarning = optionalFunction<(message: string) => void>('onWarning', o.onWarning)
  const maxMessages = positiveInteger('maxMessages', o.maxMessages, 1000)
  const maxMessageBytes = positiveInteger('maxMessageBytes', o.maxMessageBytes, 1_048_576)
  const maxBatchBytes = positiveInteger(
    'maxBatchBytes',
    o.maxBatchBytes,
    DEFAULT_BATCH_BYTES,
    MAX_BATCH_BYTES,
  )
  const maxPendingBytes = positiveInteger('maxPendingBytes', o.maxPendingBytes, DEFAULT_PENDING_BYTES)
  for (const [name, value] of [
    ['maxBatchBytes', maxBatchBytes],
    ['maxPendingBytes', maxPendingBytes],
  ] as const) {
    if (maxMessageBytes > value) {
      throw new RangeError(
        `maxMessageBytes must not exceed ${name}, got ${maxMessageBytes} > ${value}: a message of maxMessageBytes could never be written. Raise ${name} or lower maxMessageBytes`,
      )
    }
  }
  const flushIntervalMs = positiveInteger('flushIntervalMs', o.flushIntervalMs, 1000, MAX_TIMER_MS)
  return {
    backend: backend ?? backendAt(path ?? DEFAULT_PATH),
    maxMessages,
    maxMessageBytes,
    saveEvery,
    flushIntervalMs,
    durability,
    maxPending,
    maxPendingBytes,
    maxBatchBytes,
    flushOnExit,
    onSave,
    onError,
    onRecovered,
    onWarning,
  }
}

/** The backend `openMemory({ path })` uses for `path` (see {@link MemoryOptions.path}). */
function backendAt(path: string): Backend {
  const location = locate(path)
  switch (location.kind) {
    case 'redis':
      return redisBackend({ url: location.url })
    case 'sqlite':
      return sqliteBackend({ path: location.path })
    case 'file':
      return fileBackend({ path: location.path })
  }
}

type Listener = (payload: never) => void

// Messages read by the first window of a budgeted history(); each next window is 4 times larger.
const FIRST_WINDOW = 64

function* newestFirst(pending: readonly Message[], stored: readonly Message[]): Generator<Message> {
  for (let i = pending.length - 1; i >= 0; i--) yield pending[i] as Message
  for (let i = stored.length - 1; i >= 0; i--) yield stored[i] as Message
}

class Store implements Memory {
  private readonly listeners = new Map<keyof MemoryEvents, Set<Listener>>()
  private readonly queue = new SerialQueue()
  private readonly batcher: Batcher
  private readonly backend: Backend
  private state: 'opening' | 'open' | 'closing' | 'closed' = 'opening'
  private closing: Promise<void> | undefined
  private exitFlushFailedAt = -1
  private readonly exitParticipant = {
    flushForExit: () => this.flushForExit(),
    closeForExit: () => this.close().catch((error: unknown) => this.emit('error', error)),
  }

  constructor(private readonly options: ResolvedOptions) {
    this.backend = options.backend
    this.batcher = new Batcher(
      options,
      this.queue,
      this.backend.name,
      (batch) => this.backend.append(batch),
      {
        save: (info) => this.emit('save', info),
        error: (error) => this.emit('error', error),
      },
    )
  }

  async open(): Promise<void> {
    await this.backend.open({
      maxMessages: this.options.maxMessages,
      warn: (message) => this.emit('warning', message),
      recovered: (info) => this.emit('recovered', info),
      requestFlush: () => {
        if (this.state === 'open') this.batcher.requestFlush()
      },
    })
    this.state = 'open'
    if (this.options.flushOnExit) registerExitHooks(this.exitParticipant)
  }

  async add(id: ConversationId, input: MessageInput): Promise<StoredMessage> {
    const key = conversationKey(id)
    const { message, bytes } = toMessage(input, this.options.maxMessageBytes, isoNow)
    this.assertOpen()
    // Generated ids are unique; a given one is checked against what is not written yet.
    if ((input as MessageInput).id !== undefined) this.assertNewId(key, message.id as string)
    const durable = this.batcher.add(key, message, bytes)
    if (durable !== undefined) await durable
    return { ...message } as StoredMessage
  }

  async upsert(id: ConversationId, input: MessageInput & { id: string }): Promise<StoredMessage> {
    const key = conversationKey(id)
    if (typeof input === 'object' && input !== null && (input as MessageInput).id === undefined) {
      throw new TypeError(
        'message.id is required by upsert(): the id of the message to replace (or to add when the conversation has none). Use add() to add a message with a new id',
      )
    }
    const { message, bytes } = toMessage(input, this.options.maxMessageBytes, isoNow)
    this.assertOpen()
    this.assertOperations('upsert')
    const durable = this.batcher.change(key, { op: 'upsert', message }, bytes + OPERATION_OVERHEAD)
    if (durable !== undefined) await durable
    return { ...message } as StoredMessage
  }

  async remove(id: ConversationId, messageId: string): Promise<boolean> {
    const key = conversationKey(id)
    const target = checkMessageId(messageId, 'messageId')
    this.assertOpen()
    this.assertOperations('remove')
    // Served through the queue, as history(): the stored and pending messages are seen together.
    const exists = await this.queue.run(async () => {
      if (this.batcher.holdsId(key, target)) return true
      return indexOfId(this.batcher.pendingView(key, await this.backend.read(key)), target) >= 0
    })
    if (!exists) return false
    this.assertOpen()
    const durable = this.batcher.change(
      key,
      { op: 'remove', id: target },
      target.length * 6 + OPERATION_OVERHEAD,
    )
    if (durable !== undefined) await durable
    return true
  }

  async history(id: ConversationId, options?: HistoryOptions): Promise<Message[]> {
    const key = conversationKey(id)
    const { limit, budget } = historyOptions(options)
    this.assertOpen()
    if (limit === 0) return []
    const want = limit === undefined ? this.options.maxMessages : Math.min(limit, this.options.maxMessages)
    // Served through the queue: no write is in flight while the backend answers, so stored and
    // pending messages join without a gap or an overlap.
    if (budget !== undefined) {
      const { messages, overBy } = await this.queue.run(() => this.newestWithin(key, want, budget))
      if (overBy !== undefined) this.overBudget(key, overBy, budget)
      return messages
    }
    return this.queue.run(async () => {
      const want = limit === undefined ? this.options.maxMessages : Math.min(limit, this.options.maxMessages)
      // A pending upsert or remove may concern any stored message: then the whole conversation.
      const stored = await this.backend.read(key, this.batcher.hasOperations(key) ? undefined : want)
      const all = this.batcher.pendingView(key, stored)
      const from = Math.max(0, all.length - want)
      const result: Message[] = []
      for (let i = from; i < all.length; i++) result.push({ ...(all[i] as Message) })
      return result
    })
  }

  async context(id: ConversationId, options?: HistoryOptions): Promise<string> {
    const messages = await this.history(id, options)
    return messages.map(contextLine).join('\n')
  }

  async clear(id: ConversationId): Promise<boolean> {
    const key = conversationKey(id)
    this.assertOpen()
    const hadPending = this.batcher.hasPending(key)
    this.batcher.drop(key)
    const existed = await this.queue.run(() => this.backend.clear(key))
    return existed || hadPending
  }

  async prune(options: PruneOptions): Promise<number> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object with olderThanDays, got ${show(options)}`)
    }
    for (const key of Object.keys(options)) {
      if (key !== 'olderThanDays') throw new TypeError(`unknown option ${JSON.stringify(key)}`)
    }
    const days = options.olderThanDays
    if (typeof days !== 'number') throw new TypeError(`olderThanDays must be a number, got ${show(days)}`)
    if (!Number.isFinite(days) || days < 0) {
      throw new RangeError(`olderThanDays must be a finite number >= 0, got ${show(days)}`)
    }
    this.assertOpen()
    const cutoff = Date.now() - days * DAY_MS
    // Pending messages are recent activity: write them first so the backend judges on them too.
    await this.batcher.flush()
    const removed = await this.queue.run(async () => {
      if (this.backend.prune !== undefined) return (await this.backend.prune(cutoff)).length
      const idle: string[] = []
      for await (const summary of this.backend.conversations()) {
        const last = summary.lastTimestamp === undefined ? Number.NaN : Date.parse(summary.lastTimestamp)
        if (last < cutoff) idle.push(summary.id)
      }
      for (const key of idle) await this.backend.clear(key)
      return idle.length
    })
    return removed
  }

  async *conversations(): AsyncIterable<ConversationSummary> {
    this.assertOpen()
    await this.batcher.flush().catch(() => undefined)
    yield* this.backend.conversations()
  }

  async stats(): Promise<MemoryStats> {
    this.assertOpen()
    const { stats, conversations, messages } = await this.queue.run(() => this.shownStats())
    const result: MemoryStats = {
      backend: this.backend.name,
      conversations,
      messages,
      averagePerConversation: conversations === 0 ? 0 : messages / conversations,
      pending: this.batcher.unsaved,
      saves: this.batcher.saves,
      bytesWritten: stats.bytesWritten ?? this.batcher.bytesWritten,
      lastSaveMs: this.batcher.lastSaveMs,
    }
    if (stats.compactions !== undefined) result.compactions = stats.compactions
    if (stats.journalBytes !== undefined) result.journalBytes = stats.journalBytes
    if (stats.snapshotBytes !== undefined) result.snapshotBytes = stats.snapshotBytes
    return result
  }

  async flush(): Promise<void> {
    if (this.state === 'closed') return
    await this.batcher.flush()
  }

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    if (this.closing !== undefined) return this.closing
    this.state = 'closing'
    this.batcher.disarm()
    const attempt = (async () => {
      try {
        await this.batcher.flush()
      } catch (error) {
        // A failed close keeps the messages and leaves the store open; close() again retries.
        this.state = 'open'
        throw error
      }
      await this.queue.run(() => this.backend.close())
      this.state = 'closed'
      unregisterExitHooks(this.exitParticipant)
    })()
    this.closing = attempt.finally(() => {
      this.closing = undefined
    })
    return this.closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async destroy(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    unregisterExitHooks(this.exitParticipant)
    this.batcher.stop(new MemoryError('closed', 'the store was destroyed before this message was written.'))
    await this.queue.run(() => (this.backend.destroy ?? this.backend.close).call(this.backend))
  }

  on<E extends keyof MemoryEvents>(event: E, listener: (payload: MemoryEvents[E]) => void): () => void {
    if (typeof listener !== 'function')
      throw new TypeError(`listener must be a function, got ${show(listener)}`)
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as Listener)
    return () => this.off(event, listener)
  }

  off<E extends keyof MemoryEvents>(event: E, listener: (payload: MemoryEvents[E]) => void): void {
    this.listeners.get(event)?.delete(listener as Listener)
  }

  private emit<E extends keyof MemoryEvents>(event: E, payload: MemoryEvents[E]): void {
    const hook = {
      save: this.options.onSave,
      error: this.options.onError,
      recovered: this.options.onRecovered,
      warning: this.options.onWarning,
    }[event] as ((payload: MemoryEvents[E]) => void) | undefined
    const set = this.listeners.get(event)
    let delivered = false
    const deliver = (listener: (payload: MemoryEvents[E]) => void) => {
      delivered = true
      try {
        listener(payload)
      } catch (error) {
        // A throwing listener must not break the write path; surface it without crashing.
        process.emitWarning(`@taurobot/memory: a ${event} listener threw: ${String(error)}`)
      }
    }
    if (hook !== undefined) deliver(hook)
    if (set !== undefined) for (const listener of set) deliver(listener as (payload: MemoryEvents[E]) => void)
    if (!delivered && (event === 'error' || event === 'warning' || event === 'recovered')) {
      const text =
        event === 'error'
          ? payload instanceof Error
            ? payload.message
            : String(payload)
          : event === 'recovered'
            ? (payload as RecoveredInfo).message
            : String(payload)
      process.emitWarning(text, { code: `TAUROBOT_MEMORY_${event.toUpperCase()}` })
    }
  }

  /**
   * The newest messages of `key` within `budget` and `want`, oldest first. Stored messages are
   * read in growing windows from the end, so a small budget reads few of a long conversation;
   * each window is picked from afresh, so a writer in another process between two reads cannot
   * cause a gap or a duplicate.
   */
  private async newestWithin(
    key: string,
    want: number,
    budget: TokenBudget,
  ): Promise<{ messages: Message[]; overBy: number | undefined }> {
    if (this.batcher.hasOperations(key)) {
      // A pending upsert or remove may concern any stored message: the whole conversation, once.
      const all = this.batcher.pendingView(key, await this.backend.read(key))
      const { picked, overBy } = pickWithinBudget(all.slice(-want).reverse(), budget, want)
      const messages: Message[] = []
      for (let i = picked.length - 1; i >= 0; i--) messages.push({ ...(picked[i] as Message) })
      return { messages, overBy }
    }
    // Only appends wait: they are the newest messages, after whatever the backend holds.
    const pending = this.batcher.pendingView(key, [])
    const storedWanted = Math.max(0, want - pending.length)
    let window = Math.min(FIRST_WINDOW, storedWanted)
    for (;;) {
      const stored = window === 0 ? [] : await this.backend.read(key, window)
      const { picked, overBy, full } = pickWithinBudget(newestFirst(pending, stored), budget, want)
      if (full || stored.length < window || window === storedWanted) {
        const messages: Message[] = []
        for (let i = picked.length - 1; i >= 0; i--) messages.push({ ...(picked[i] as Message) })
        return { messages, overBy }
      }
      window = Math.min(window * 4, storedWanted)
    }
  }

  private overBudget(key: string, tokens: number, budget: TokenBudget): void {
    const info = { conversation: key, tokens, maxTokens: budget.maxTokens }
    if (budget.onOverBudget !== undefined) {
      budget.onOverBudget(info)
      return
    }
    this.emit(
      'warning',
      `the newest message of conversation ${JSON.stringify(key)} alone takes ${tokens} tokens, over maxTokens ${budget.maxTokens}; it is returned whole. Shorten it, raise maxTokens, or pass onOverBudget to handle this case.`,
    )
  }

  /**
   * The backend's counts plus what pending messages add, as history() would show them: a
   * conversation the backend does not hold yet adds one, and each conversation counts up to
   * maxMessages, as the backend will trim it when the messages are written.
   */
  private async shownStats(): Promise<{ stats: BackendStats; conversations: number; messages: number }> {
    const stats = await this.backendStats()
    let conversations = stats.conversations
    let messages = stats.messages
    const max = this.options.maxMessages
    for (const key of this.batcher.pendingIds()) {
      // A pending upsert or remove may concern any stored message: then the whole conversation.
      const whole = this.batcher.hasOperations(key)
      // A conversation the backend cannot read (a Redis key of another type) must not make the
      // counters fail: its pending messages count, it does not add a conversation.
      const stored = await this.backend.read(key, whole ? undefined : max).then(
        (list) => list,
        () => undefined,
      )
      if (stored === undefined) {
        messages += Math.min(this.batcher.pendingView(key, []).length, max)
        continue
      }
      const held = Math.min(stored.length, max)
      const shown = Math.min(this.batcher.pendingView(key, stored).length, max)
      if (held === 0 && shown > 0) conversations++
      messages += shown - held
    }
    return { stats, conversations, messages }
  }

  private async backendStats(): Promise<BackendStats> {
    if (this.backend.stats !== undefined) return this.backend.stats()
    let conversations = 0
    let messages = 0
    for await (const summary of this.backend.conversations()) {
      conversations++
      messages += summary.messages
    }
    return { conversations, messages }
  }

  private async flushForExit(): Promise<void> {
    const unsaved = this.batcher.unsaved
    if (unsaved === 0 || unsaved === this.exitFlushFailedAt || this.state === 'closed') return
    try {
      await this.batcher.flush()
    } catch (error) {
      this.exitFlushFailedAt = this.batcher.unsaved
      this.emit('error', error)
    }
  }

  private assertNewId(key: string, messageId: string): void {
    if (!this.batcher.holdsId(key, messageId)) return
    throw new MemoryError(
      'duplicate-id',
      `message id ${JSON.stringify(messageId)} is already used by a change to conversation ${JSON.stringify(key)} that is not written yet; nothing was added. Give each message its own id, or use upsert() to replace that message.`,
      { details: { conversation: key, id: messageId } },
    )
  }

  private assertOperations(method: 'upsert' | 'remove'): void {
    if (this.backend.operations === true) return
    throw new MemoryError(
      'unsupported',
      `the ${this.backend.name} backend cannot apply ${method}() (it does not declare Backend.operations); nothing was written. Use a backend of this package, or implement BatchEntry.operations in this one.`,
      { details: { backend: this.backend.name } },
    )
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new MemoryError('closed', 'the store is closed. Open a new one with openMemory().', {
        details: { state: this.state },
      })
    }
  }
}

/**
 * Opens a conversation store: loads what the backend holds and returns the API to add and read
 * messages. With no `backend`, conversations are kept in the file at `path` (Python-bot format,
 * with an append-only journal beside it).
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 *
 * const memory = await openMemory({ path: 'memory/conversations.json' })
 * await memory.add(chatId, { role: 'user', content: 'Ciao!' })
 * const prompt = await memory.context(chatId, { limit: 10 })
 * await memory.close()
 * ```
 */
export async function openMemory(options?: MemoryOptions): Promise<Memory> {
  const store = new Store(resolveOptions(options))
  await store.open()
  return store
}
