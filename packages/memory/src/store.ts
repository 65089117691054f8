// Over 400 lines on purpose: the Store is the one place where the batcher, the backend, the live
// replies and the exit hooks meet, and each method is the short composition of those parts (their
// own logic lives in batch.ts, reply.ts, token-budget.ts, store-options.ts and the backends).
import type { Backend, BackendStats, BatchEntry, ConversationSummary, RecoveredInfo } from './backend.js'
import { indexOfId } from './backends/operations.js'
import { Batcher } from './batch.js'
import {
  createProbe,
  publishClose,
  publishError,
  publishOpen,
  publishSaved,
  publishSaveFailed,
  STORE_PROBE,
  type StoreProbe,
  saveTrace,
  traceSave,
} from './diagnostics.js'
import { MemoryError } from './errors.js'
import { registerExitHooks, signalClose, unregisterExitHooks } from './exit-hooks.js'
import type {
  CheckedOptions,
  Memory,
  MemoryEvents,
  MemoryOptions,
  MemoryStats,
  PruneOptions,
} from './memory-api.js'
import {
  type ConversationId,
  checkMessageId,
  conversationKey,
  isoNow,
  type Message,
  type MessageInput,
  noTimestamp,
  type SizedMessage,
  type StoredMessage,
  show,
  toMessage,
} from './message.js'
import { knownOptions } from './options.js'
import { type Reply, type ReplyHost, type ReplyInput, ReplyStream } from './reply.js'
import { ReplyRegistry } from './reply-registry.js'
import { SerialQueue } from './serial-queue.js'
import {
  COMPLETE_SNAPSHOT,
  COPY_MESSAGE,
  COPY_PROBLEM,
  type CopyProblem,
  KEPT_PER_CONVERSATION,
} from './store-internals.js'
import { DAY_MS, OPERATION_OVERHEAD, type ResolvedOptions, resolveOptions } from './store-options.js'
import {
  contextLine,
  type HistoryOptions,
  historyOptions,
  pickWithinBudget,
  type TokenBudget,
} from './token-budget.js'

const PRUNE_OPTIONS: ReadonlySet<string> = new Set(['olderThanDays'])

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
  // Read by @taurobot/memory/metrics: the store's number and its pending count.
  readonly [STORE_PROBE]: StoreProbe
  private readonly replies = new ReplyRegistry()
  /**
   * Per conversation, the end of a remove() still reading whether its message exists (see
   * remove()). Later changes of that conversation wait for it before reaching the batcher, so they
   * stay in call order behind the remove even when nobody awaited it.
   */
  private readonly removals = new Map<string, Promise<unknown>>()
  private readonly replyHost: ReplyHost
  private state: 'opening' | 'open' | 'closing' | 'closed' = 'opening'
  // destroy() dropped what was pending: a later flush() cannot say that it is written.
  private destroyed = false
  private closing: Promise<void> | undefined
  private exitFlushFailedAt = -1
  private readonly exitParticipant = {
    flushForExit: () => this.flushForExit(),
    closeForExit: () => this.close().catch((error: unknown) => this.emit('error', error)),
  }

  constructor(private readonly options: ResolvedOptions) {
    this.backend = options.backend
    const probe = createProbe(this.backend, options.durability, () => this.batcher.unsaved)
    this[STORE_PROBE] = probe
    // Made once: with nobody subscribed, a write then allocates nothing for the diagnostics.
    const append = (batch: BatchEntry[]) => this.backend.append(batch)
    this.batcher = new Batcher(
      options,
      this.queue,
      this.backend.name,
      {
        append,
        trace: (batch) => saveTrace(probe, batch),
        traced: (batch, started) => traceSave(probe, batch, append, started),
        saved: publishSaved,
        failed: publishSaveFailed,
      },
      {
        save: (info) => this.emit('save', info),
        error: (error) => this.emit('error', error),
      },
    )
    this.replyHost = {
      strict: options.durability === 'strict',
      extend: this.backend.extend === true,
      flushIntervalMs: options.flushIntervalMs,
      maxMessageBytes: options.maxMessageBytes,
      assertOpen: () => this.assertOpen(),
      refused: () => (this.state === 'open' ? undefined : this.refuse()),
      // Also while closing: close() hands over what the replies hold before its last flush.
      change: (key, operation, bytes) => {
        if (this.state === 'closed') this.assertOpen()
        // A reply's first write under an id the store made is a plain add (see ReplyStream.send).
        const handOver = () =>
          operation.op === 'add'
            ? this.batcher.add(key, operation.message, bytes)
            : this.batcher.change(key, operation, bytes)
        // Behind a remove() or clear() still under way, in call order, as add() and upsert() are.
        const gate = this.removals.get(key)
        if (gate === undefined) return handOver()
        return this.afterRemoval(key, gate, async () => {
          await handOver()
        })
      },
      flush: () => this.batcher.flush(),
      error: (error) => this.emit('error', error),
      settled: (reply) => this.replies.delete(reply),
    }
  }

  async open(): Promise<void> {
    await this.backend.open({
      maxMessages: this.options.maxMessages,
      durability: this.options.durability,
      warn: (message) => this.emit('warning', message),
      recovered: (info) => this.emit('recovered', info),
      requestFlush: () => {
        if (this.state === 'open') this.batcher.requestFlush()
      },
    })
    this.state = 'open'
    if (this.options.flushOnExit) registerExitHooks(this.exitParticipant)
    publishOpen(this[STORE_PROBE])
  }

  // Not an async function: a strict add() returns the batcher's own promise, which resolves with
  // the copy of the message, instead of wrapping it in a promise and a turn of its own per message.
  // Every failure still comes as a rejected promise, never as a throw.
  add(id: ConversationId, input: MessageInput): Promise<StoredMessage> {
    return this.addStamped(id, input, isoNow)
  }

  // For migrate(): see store-internals.ts. A source may hold two messages with one id (add() does
  // not check stored ids): they are copied as they are, not refused half-way through a conversation.
  [COPY_MESSAGE](id: string, message: Message): Promise<StoredMessage> {
    return this.addStamped(id, message, noTimestamp, false)
  }

  [COPY_PROBLEM](message: Message): CopyProblem | undefined {
    try {
      toMessage(message, this.options.maxMessageBytes, noTimestamp)
      return undefined
    } catch (error) {
      const reason = (error as Error).message
      // Refused for its size alone: say how large, so the migration can name the maxMessageBytes to give.
      try {
        return { reason, bytes: toMessage(message, Number.POSITIVE_INFINITY, noTimestamp).bytes }
      } catch {
        return { reason }
      }
    }
  }

  /**
   * add(), with `now` giving the timestamp of a message without one; `checkId`: refuse a given id
   * that a change not yet written already uses.
   */
  private addStamped(
    id: ConversationId,
    input: MessageInput,
    now: () => string | undefined,
    checkId = true,
  ): Promise<StoredMessage> {
    let key: string
    let sized: SizedMessage
    try {
      key = conversationKey(id)
      sized = toMessage(input, this.options.maxMessageBytes, now)
      if (this.state !== 'open') return this.refuse()
      // Generated ids are unique; a given one is checked against what is not written yet.
      if (checkId && (input as MessageInput).id !== undefined)
        this.assertNewId(key, sized.message.id as string)
    } catch (error) {
      return Promise.reject(error)
    }
    const { message, bytes } = sized
    const removal = this.removals.get(key)
    if (removal !== undefined)
      return this.afterRemoval(key, removal, () => this.handOver(key, message, bytes))
    return this.handOver(key, message, bytes)
  }

  /**
   * Runs `step`, which hands a change of `key` to the batcher, once `gate` (a remove() still
   * reading, and the changes already waiting behind it) has let it through; later changes wait
   * until `step` has run, or, with `untilSettled`, until its promise settled (addMany, which hands
   * its messages over across turns). Steps run one per turn of the chain, so in call order.
   */
  private afterRemoval<T>(
    key: string,
    gate: Promise<unknown>,
    step: () => Promise<T>,
    untilSettled = false,
  ): Promise<T> {
    let result: Promise<T> | undefined
    const ran = gate.then(() => {
      result = step()
    })
    this.hold(key, untilSettled ? ran.then(() => result) : ran)
    return ran.then(() => result as Promise<T>)
  }

  /** Makes `until` the gate later changes of `key` wait for (never rejecting), until it settles. */
  private hold(key: string, until: Promise<unknown>): void {
    const gate = until.then(
      () => undefined,
      () => undefined,
    )
    this.removals.set(key, gate)
    void gate.then(() => {
      if (this.removals.get(key) === gate) this.removals.delete(key)
    })
  }

  /**
   * True while the second half of a change still goes to the batcher: while open, and while
   * closing for a change made while open that waited behind a remove() or clear() (close() lets
   * those through before its last flush; a call made while closing is refused when it is made).
   */
  private takesChanges(): boolean {
    return this.state !== 'closed'
  }

  /** Gives a checked message to the batcher: the second half of add(). */
  private handOver(key: string, message: Message, bytes: number): Promise<StoredMessage> {
    if (!this.takesChanges()) return this.refuse()
    const durable = this.batcher.addAnswering(key, message, bytes)
    if (durable === undefined) return Promise.resolve({ ...message } as StoredMessage)
    return durable as Promise<StoredMessage>
  }

  async addMany(id: ConversationId, inputs: readonly MessageInput[]): Promise<StoredMessage[]> {
    const key = conversationKey(id)
    if (!Array.isArray(inputs)) {
      throw new TypeError(`messages must be an array of messages, got ${show(inputs)}`)
    }
    // Every message is checked before any is added: a bad one adds none.
    const checked: SizedMessage[] = []
    const givenIds = new Set<string>()
    for (let i = 0; i < inputs.length; i++) {
      const input: unknown = inputs[i]
      let sized: SizedMessage
      try {
        sized = toMessage(input, this.options.maxMessageBytes, isoNow)
      } catch (error) {
        const text = `messages[${i}] is not valid, so none of the ${inputs.length} messages was added: ${(error as Error).message}`
        throw error instanceof RangeError ? new RangeError(text) : new TypeError(text)
      }
      if ((input as MessageInput).id !== undefined) {
        const messageId = sized.message.id as string
        if (givenIds.has(messageId)) {
          throw new MemoryError(
            'duplicate-id',
            `messages[${i}] has the id ${JSON.stringify(messageId)} of an earlier message of the same call; nothing was added. Give each message its own id.`,
            { details: { conversation: key, id: messageId, index: i } },
          )
        }
        givenIds.add(messageId)
      }
      checked.push(sized)
    }
    if (this.state !== 'open') await this.refuse()
    const removal = this.removals.get(key)
    if (removal !== undefined) {
      return this.afterRemoval(key, removal, () => this.addManyNow(key, checked, givenIds, true), true)
    }
    return this.addManyNow(key, checked, givenIds, false)
  }

  /**
   * Gives checked messages to the batcher: the second half of addMany(). `gated`: it waited behind
   * a remove() or clear(), and close() waits for it to settle, so it goes on while the store closes.
   */
  private async addManyNow(
    key: string,
    checked: readonly SizedMessage[],
    givenIds: ReadonlySet<string>,
    gated: boolean,
  ): Promise<StoredMessage[]> {
    if (!this.takesChanges()) await this.refuse()
    for (const messageId of givenIds) this.assertNewId(key, messageId)
    // Each message goes to the batcher as add() would hand it. A batched store takes them without
    // waiting while there is room; a strict one makes them durable together (one write when they
    // fit in maxPending and maxBatchBytes). Past the pending limits the call waits for the writes
    // that make room, instead of queueing more than maxPending behind them.
    const strict = this.options.durability === 'strict'
    let unwritten: Promise<void>[] = []
    try {
      for (const { message, bytes } of checked) {
        if (strict && unwritten.length > 0 && !this.batcher.hasRoomFor(bytes)) {
          await Promise.all(unwritten)
          unwritten = []
        }
        if (this.state !== 'open' && !(gated && this.takesChanges())) await this.refuse()
        const durable = this.batcher.add(key, message, bytes)
        if (durable === undefined) continue
        if (strict) unwritten.push(durable)
        else await durable
      }
      await Promise.all(unwritten)
    } catch (error) {
      // The caller hears of the first failure; the others are the same story.
      for (const durable of unwritten) durable.catch(() => undefined)
      throw error
    }
    return checked.map(({ message }) => ({ ...message }) as StoredMessage)
  }

  async upsert(id: ConversationId, input: MessageInput & { id: string }): Promise<StoredMessage> {
    const key = conversationKey(id)
    if (typeof input === 'object' && input !== null && (input as MessageInput).id === undefined) {
      throw new TypeError(
        'message.id is required by upsert(): the id of the message to replace (or to add when the conversation has none). Use add() to add a message with a new id',
      )
    }
    const { message, bytes } = toMessage(input, this.options.maxMessageBytes, isoNow)
    if (this.state !== 'open') await this.refuse()
    this.assertOperations('upsert')
    const removal = this.removals.get(key)
    if (removal !== undefined)
      return this.afterRemoval(key, removal, () => this.upsertNow(key, message, bytes))
    return this.upsertNow(key, message, bytes)
  }

  /** Gives a checked upsert to the batcher: the second half of upsert(). */
  private upsertNow(key: string, message: Message, bytes: number): Promise<StoredMessage> {
    if (!this.takesChanges()) return this.refuse()
    const durable = this.batcher.change(key, { op: 'upsert', message }, bytes + OPERATION_OVERHEAD)
    const stored = { ...message } as StoredMessage
    return durable === undefined ? Promise.resolve(stored) : durable.then(() => stored)
  }

  remove(id: ConversationId, messageId: string): Promise<boolean> {
    let key: string
    let target: string
    try {
      key = conversationKey(id)
      target = checkMessageId(messageId, 'messageId')
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.state !== 'open') return this.refuse()
    // Whether the message exists is read from the backend, which takes a turn: changes of the
    // conversation made meanwhile wait behind this one (see removals), in call order.
    const before = this.removals.get(key)
    const queued =
      before === undefined ? this.queueRemove(key, target) : before.then(() => this.queueRemove(key, target))
    // The gate opens once the remove is with the batcher (or found to have nothing to remove),
    // not once it is durable: later changes then follow it in the same order to the backend.
    this.hold(key, queued)
    return queued.then(async ({ exists, durable }) => {
      if (durable !== undefined) await durable
      return exists
    })
  }

  /** Reads whether `target` exists and, if so, gives its remove to the batcher. */
  private async queueRemove(
    key: string,
    target: string,
  ): Promise<{ exists: boolean; durable?: Promise<unknown> | undefined }> {
    if (!this.takesChanges()) await this.refuse()
    this.assertOperations('remove')
    // Served through the queue, as history(): the stored and pending messages are seen together.
    // Through the view, not just the pending changes: a pending message that later pending adds
    // pushed past maxMessages is gone, as history() shows. So is a stored message older than the
    // newest maxMessages (a conversation written with a larger limit, which SQLite and Redis keep
    // until its next write): history() does not show it, and the write would trim it anyway.
    const exists = await this.queue.run(async () => {
      const view = this.batcher.pendingView(key, await this.backend.read(key))
      const at = indexOfId(view, target)
      return at >= 0 && at >= view.length - this.options.maxMessages
    })
    // Only a reply whose message this removes stops: one pushed out already is gone anyway, and
    // one started after this call takes its place after it.
    if (!exists) return { exists: false }
    this.replies.drop(key, target)
    if (!this.takesChanges()) await this.refuse()
    const durable = this.batcher.change(
      key,
      { op: 'remove', id: target },
      target.length * 6 + OPERATION_OVERHEAD,
    )
    return { exists: true, durable }
  }

  reply(id: ConversationId, input?: ReplyInput): Reply {
    const key = conversationKey(id)
    if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
      throw new TypeError(`message must be an object such as { role: 'assistant' }, got ${show(input)}`)
    }
    const given: Record<string, unknown> = { ...input }
    given.role ??= 'assistant'
    given.content ??= ''
    const { message, bytes } = toMessage(given, this.options.maxMessageBytes, isoNow)
    this.assertOpen()
    this.assertOperations('reply')
    const reply = new ReplyStream(this.replyHost, key, message, bytes, given.id === undefined)
    this.replies.add(reply)
    reply.start()
    return reply
  }

  async history(id: ConversationId, options?: HistoryOptions): Promise<Message[]> {
    const key = conversationKey(id)
    const { limit, budget } = historyOptions(options)
    if (this.state !== 'open') await this.refuse()
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
      const stored = await this.backend.read(key, this.changing(key) ? undefined : want)
      const all = this.view(key, stored)
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

  clear(id: ConversationId): Promise<boolean> {
    let key: string
    try {
      key = conversationKey(id)
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.state !== 'open') return this.refuse()
    // The replies streaming now stop at once; one started after this call is not cleared.
    this.replies.drop(key)
    // In call order with the conversation's other changes: after a remove() still reading, and
    // before any change made after it (not awaited), which would otherwise be written first and
    // then erased by the clear.
    const before = this.removals.get(key)
    const cleared = before === undefined ? this.clearNow(key) : before.then(() => this.clearNow(key))
    this.hold(key, cleared)
    return cleared
  }

  private async clearNow(key: string): Promise<boolean> {
    if (!this.takesChanges()) await this.refuse()
    const hadPending = this.batcher.hasPending(key)
    this.batcher.drop(key)
    const existed = await this.queue.run(() => this.backend.clear(key))
    return existed || hadPending
  }

  async prune(options: PruneOptions): Promise<number> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object with olderThanDays, got ${show(options)}`)
    }
    knownOptions(options, PRUNE_OPTIONS)
    const days = options.olderThanDays
    if (typeof days !== 'number') throw new TypeError(`olderThanDays must be a number, got ${show(days)}`)
    if (!Number.isFinite(days) || days < 0) {
      throw new RangeError(`olderThanDays must be a finite number >= 0, got ${show(days)}`)
    }
    if (this.state !== 'open') await this.refuse()
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
    if (this.state !== 'open') await this.refuse()
    await this.batcher.flush().catch(() => undefined)
    yield* this.backend.conversations()
  }

  async stats(): Promise<MemoryStats> {
    if (this.state !== 'open') await this.refuse()
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
    if (stats.commits !== undefined) result.commits = { ...stats.commits }
    return result
  }

  // For migrate(): see store-internals.ts.
  get [KEPT_PER_CONVERSATION](): number {
    return this.options.maxMessages
  }

  async [COMPLETE_SNAPSHOT](): Promise<void> {
    await this.flush()
    const backend = this.backend
    if (backend.completeSnapshot !== undefined)
      await this.queue.run(() => backend.completeSnapshot?.() ?? Promise.resolve())
  }

  async flush(): Promise<void> {
    if (this.destroyed) {
      throw new MemoryError(
        'closed',
        'the store was destroyed: what was pending then was dropped, not written. Use close() instead of destroy() to write it.',
        { details: { state: 'destroyed' } },
      )
    }
    if (this.state === 'closed') return
    // Changes made before this call that wait behind a remove() or clear() still under way (not
    // awaited) reach the batcher first, so they are written too.
    if (this.removals.size > 0) await Promise.all(this.removals.values())
    await this.replies.handOverAll()
    const refused = await this.batcher.flushReporting()
    // Batched changes the backend refused were dropped: resolving would say they are on disk.
    if (refused !== undefined) throw refused
  }

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    if (this.closing !== undefined) return this.closing
    this.state = 'closing'
    this.batcher.disarm()
    const attempt = (async () => {
      let refused: MemoryError | undefined
      // Changes made before close() that wait behind a remove() or clear() still under way (not
      // awaited) are written too: they reach the batcher before the last flush.
      if (this.removals.size > 0) await Promise.all(this.removals.values())
      try {
        await this.replies.handOverAll()
        refused = await this.batcher.flushReporting()
      } catch (error) {
        // A failed close keeps the messages and leaves the store open; close() again retries.
        this.state = 'open'
        throw error
      }
      await this.queue.run(() => this.backend.close())
      this.state = 'closed'
      unregisterExitHooks(this.exitParticipant)
      publishClose(this[STORE_PROBE], false)
      // Changes the backend refused were dropped, not kept: a retry could not write them, so the
      // store closes, and close() says they are not on disk.
      if (refused !== undefined) throw refused
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
    this.destroyed = true
    unregisterExitHooks(this.exitParticipant)
    this.replies.dropAll()
    this.batcher.stop(new MemoryError('closed', 'the store was destroyed before this message was written.'))
    await this.queue.run(() => (this.backend.destroy ?? this.backend.close).call(this.backend))
    publishClose(this[STORE_PROBE], true)
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
    if (event === 'error') publishError(this[STORE_PROBE], payload)
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
    if (this.changing(key)) {
      // A pending upsert or remove may concern any stored message: the whole conversation, once.
      const all = this.view(key, await this.backend.read(key))
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
      // A conversation with no stored message is new, unless the backend keeps it empty (and so
      // counted it already).
      if (held === 0 && shown > 0 && !(await this.keeps(key))) conversations++
      messages += shown - held
    }
    return { stats, conversations, messages }
  }

  private async keeps(key: string): Promise<boolean> {
    return this.backend.has === undefined ? false : this.backend.has(key).catch(() => false)
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
    if (this.state === 'open') await this.replies.handOverAll()
    const unsaved = this.batcher.unsaved
    if (unsaved > 0 && unsaved !== this.exitFlushFailedAt && this.state !== 'closed') {
      try {
        await this.batcher.flush()
      } catch (error) {
        this.exitFlushFailedAt = this.batcher.unsaved
        this.emit('error', error)
      }
    }
    // Also with nothing pending: strict adds and timed flushes wrote to the journal alone.
    const backend = this.backend
    if (this.state !== 'open' || backend.completeAtExit === undefined) return
    await this.queue
      .run(() => backend.completeAtExit?.() ?? Promise.resolve())
      .catch((error: unknown) => this.emit('error', error))
  }

  private assertNewId(key: string, messageId: string): void {
    if (!this.batcher.holdsId(key, messageId)) return
    throw new MemoryError(
      'duplicate-id',
      `message id ${JSON.stringify(messageId)} is already used by a change to conversation ${JSON.stringify(key)} that is not written yet; nothing was added. Give each message its own id, or use upsert() to replace that message.`,
      { details: { conversation: key, id: messageId } },
    )
  }

  /** True when what is pending may change any stored message of `key`: read it whole. */
  private changing(key: string): boolean {
    return this.batcher.hasOperations(key) || this.replies.hasUnsent(key)
  }

  /** The conversation as history() shows it: stored, pending changes and unsent reply text. */
  private view(key: string, stored: Message[]): Message[] {
    return this.replies.withUnsent(key, this.batcher.pendingView(key, stored))
  }

  private assertOperations(method: 'upsert' | 'remove' | 'reply'): void {
    if (this.backend.operations === true) return
    throw new MemoryError(
      'unsupported',
      `the ${this.backend.name} backend cannot apply ${method}() (it does not declare Backend.operations); nothing was written. Use a backend of this package, or implement BatchEntry.operations in this one.`,
      { details: { backend: this.backend.name } },
    )
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw this.closedError()
  }

  private closedError(): MemoryError {
    const text =
      this.state === 'closing'
        ? 'the store was closing when this was called, so nothing was done. Open a new one with openMemory().'
        : 'the store is closed. Open a new one with openMemory().'
    return new MemoryError('closed', text, { details: { state: this.state } })
  }

  /**
   * The `closed` rejection of a call the store no longer takes. While this store closes, or a
   * signal closes the stores, it settles only a turn after those closes have settled. Left
   * unhandled (a loop that awaits add() and catches nothing), a rejection ends the process under
   * Node's default: settled at once, it would cut the close short and lose the acknowledged
   * messages the close was writing. Settled after it, the exit hooks have re-raised the signal
   * first, so the process still ends by the signal (130/143).
   */
  private refuse(): Promise<never> {
    const error = this.closedError()
    const closing = this.closing
    const signalled = signalClose()
    if (closing === undefined && signalled === undefined) return Promise.reject(error)
    return Promise.allSettled([closing, signalled]).then(
      () => new Promise<never>((_, reject) => setImmediate(reject, error)),
    )
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
export async function openMemory<O extends MemoryOptions = MemoryOptions>(
  options?: CheckedOptions<O>,
): Promise<Memory> {
  const store = new Store(resolveOptions(options))
  await store.open()
  return store
}
