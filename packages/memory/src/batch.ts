// Over 400 lines on purpose: the Batcher is one state machine. Its counters (pending, being
// written, waiting for room) must stay consistent through add, write, failure, clear and shutdown,
// and keeping them in one class is what lets each method keep that invariant in view.
import type { AppendResult, BatchEntry, Operation } from './backend.js'
import { applyOperations } from './backends/operations.js'
import type { MemorySaveContext } from './diagnostics.js'
import { MemoryError } from './errors.js'
import type { Message } from './message.js'
import type { SerialQueue } from './serial-queue.js'

/** When to write: the part of the store options that drives batching. */
export interface BatchPolicy {
  readonly saveEvery: number
  readonly flushIntervalMs: number
  readonly durability: 'batched' | 'strict'
  readonly maxPending: number
  readonly maxPendingBytes: number
  readonly maxBatchBytes: number
  /** What the backend trims each conversation to: the pending view trims as the write will. */
  readonly maxMessages: number
}

/**
 * How the batcher calls the backend, and how each call is traced (see diagnostics.ts). `trace`
 * tells: `undefined` when nobody listens (call `append`), `'whole'` when someone listens to the
 * trace's start (call `traced`, which wraps the call in it), or, when only a write's outcome is
 * listened to (the metrics exporter), the trace's context: the call is the plain `append`, and the
 * batcher publishes the outcome with the clock reads it makes anyway.
 */
export interface BatchWriter {
  /** The backend's append. */
  append(batch: BatchEntry[]): Promise<AppendResult>
  /** How a write of `batch` is traced. */
  trace(batch: BatchEntry[]): MemorySaveContext | 'whole' | undefined
  /** The append wrapped in the whole save trace; `started` is the write's performance.now(). */
  traced(batch: BatchEntry[], started: number): Promise<AppendResult>
  /** Publishes the outcome of a successful write. */
  saved(context: MemorySaveContext, batch: BatchEntry[], result: AppendResult, durationMs: number): void
  /** Publishes the outcome of a failed write. */
  failed(context: MemorySaveContext, error: unknown, durationMs: number): void
}

/** What one successful write did, as reported to the `save` event. */
export interface SaveInfo {
  /** Messages written. */
  readonly messages: number
  /** Conversations they belong to. */
  readonly conversations: number
  /** Bytes the backend wrote for them. */
  readonly bytes: number
  /** Wall-clock duration of the write, in milliseconds. */
  readonly durationMs: number
}

interface Pending {
  /** The message of an add; undefined for an upsert or a remove, which `operation` holds. */
  readonly message: Message | undefined
  readonly operation: Operation | undefined
  /** Bytes of the message's JSON form (an upper bound for a small message). */
  readonly bytes: number
  /** Settles a strict change; with `answer`, the add's promise gets a copy of its message. */
  readonly resolve?: (value?: Message) => void
  readonly reject?: (error: unknown) => void
  /** True for an add whose caller is answered with the stored message (see Batcher.addAnswering). */
  readonly answer?: boolean
}

/** An add() that found the pending limits reached and waits for a write to make room. */
interface Waiter {
  readonly id: string
  readonly entry: Pending
  /** Settles a batched add() once its message is pending; a strict one settles through `entry`. */
  readonly admitted?: (value?: Message) => void
  readonly refuse: (error: unknown) => void
}

/** One backend call's share of what is being written. */
interface Chunk {
  readonly batch: BatchEntry[]
  readonly lists: Array<[string, Pending[]]>
  readonly count: number
  readonly bytes: number
}

/**
 * A conversation whose batched changes the backend refused (AppendResult.failed) and dropped. Kept
 * until every flush() that covers them has reported it, then forgotten (see Batcher.refusals).
 */
interface Refusal {
  readonly error: MemoryError
  /** Changes dropped since the refusal was first recorded. */
  dropped: number
  /** The first flush ticket that no longer reports it; undefined until a flush has reported it. */
  reportedBefore: number | undefined
}

export interface BatcherHooks {
  save(info: SaveInfo): void
  error(error: unknown): void
}

// What a journal record or command spends around each message (a comma) and each conversation
// (its id, at most 6 bytes per UTF-16 unit once escaped, and the brackets around it).
const MESSAGE_OVERHEAD = 1
const conversationOverhead = (id: string): number => id.length * 6 + 8

// The settling functions of the promise just made by `new Promise(capture)`: one executor for
// every strict add, instead of a closure and its context allocated per message.
let capturedResolve: (value?: Message) => void = () => undefined
let capturedReject: (error: unknown) => void = () => undefined
function capture(resolve: (value?: Message) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

/** What an entry's promise resolves with: a copy of the added message when its caller wants it. */
function answerOf(entry: Pending): Message | undefined {
  return entry.answer === true ? { ...(entry.message as Message) } : undefined
}

function operationOf(entry: Pending): Operation {
  return entry.operation ?? { op: 'add', message: entry.message as Message }
}

const PREFIX = '[@taurobot/memory] '

/** An error's message without the package prefix, to quote inside another. */
function quoted(error: Error): string {
  return error.message.startsWith(PREFIX) ? error.message.slice(PREFIX.length) : error.message
}

/**
 * The error a flush() reports for conversations whose batched changes the backend refused: with
 * their code (the first one's when they differ), naming each conversation, how many changes were
 * dropped, and why (the backend's error, which says what to do, is the cause).
 */
function refusalError(backend: string, refused: ReadonlyArray<[string, Refusal]>): MemoryError {
  const changes = (n: number) => `${n} change${n === 1 ? '' : 's'}`
  const [firstId, first] = refused[0] as [string, Refusal]
  const details = {
    backend,
    conversations: refused.map(([id]) => id),
    dropped: Object.fromEntries(refused.map(([id, refusal]) => [id, refusal.dropped])),
  }
  if (refused.length === 1) {
    return new MemoryError(
      first.error.code,
      `the ${backend} backend refused ${changes(first.dropped)} to conversation ${JSON.stringify(firstId)}, dropped without being written (every other change was written): ${quoted(first.error)}`,
      { cause: first.error, details: { ...first.error.details, ...details } },
    )
  }
  const shown = refused
    .slice(0, 3)
    .map(([id, refusal]) => `${JSON.stringify(id)} (${changes(refusal.dropped)}): ${quoted(refusal.error)}`)
  const more =
    refused.length > 3
      ? `; and ${refused
          .slice(3)
          .map(([id]) => JSON.stringify(id))
          .join(', ')}`
      : ''
  return new MemoryError(
    first.error.code,
    `the ${backend} backend refused the changes to ${refused.length} conversations, dropped without being written (every other change was written): ${shown.join('; ')}${more}`,
    { cause: new AggregateError(refused.map(([, refusal]) => refusal.error)), details },
  )
}

function reason(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'an unprintable error'
  }
}

/**
 * Collects added messages and decides when they are written. Every write goes through the serial
 * queue and takes all that is pending at the moment it starts, so concurrent strict adds share one
 * backend call (group commit) and a batched store makes at most one call per `saveEvery` messages.
 * What a write takes is handed to the backend in calls of at most `maxBatchBytes` each, so no
 * single record or command grows with the backlog.
 */
export class Batcher {
  private pending = new Map<string, Pending[]>()
  private pendingCount = 0
  private pendingBytes = 0
  private writingCount = 0
  private writingBytes = 0
  private writing: Map<string, Pending[]> | undefined
  private readonly clearedWhileWriting = new Set<string>()
  // Waiting adds, oldest first from `waitHead` (a queue without the cost of Array#shift).
  private waiters: Waiter[] = []
  private waitHead = 0
  private waitingBytes = 0
  private waitersQueued = 0
  private waitersSettled = 0
  private flushQueued = false
  private failing = false
  private lastFailure: unknown
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private stopReason: unknown
  // Batched changes the backend refused, by conversation, and the flushes watching for them.
  private readonly refused = new Map<string, Refusal>()
  private nextTicket = 0
  private watching = 0
  saves = 0
  bytesWritten = 0
  lastSaveMs = 0

  constructor(
    private readonly policy: BatchPolicy,
    private readonly queue: SerialQueue,
    private readonly backendName: string,
    private readonly writer: BatchWriter,
    private readonly hooks: BatcherHooks,
  ) {}

  /** Messages accepted but not yet durable. */
  get unsaved(): number {
    return this.pendingCount + this.writingCount
  }

  /** Bytes of the messages accepted but not yet durable. */
  get unsavedBytes(): number {
    return this.pendingBytes + this.writingBytes
  }

  private get waiting(): number {
    return this.waiters.length - this.waitHead
  }

  /**
   * Queues a message of `bytes` bytes. Returns a promise only when there is something to wait
   * for (strict mode: it settles when the message is durable; room under the pending limits; a
   * refusal): a batched add with room, the common case, allocates none.
   */
  add(id: string, message: Message, bytes: number): Promise<void> | undefined {
    return this.accept(id, message, undefined, bytes, false) as Promise<void> | undefined
  }

  /**
   * As {@link add}, and the promise, when there is one, resolves with a copy of `message` made
   * once it is saved (strict) or taken (room was made): what add() answers, without a promise and
   * a turn of its own per message on top of this one.
   */
  addAnswering(id: string, message: Message, bytes: number): Promise<Message> | undefined {
    return this.accept(id, message, undefined, bytes, true) as Promise<Message> | undefined
  }

  /** Queues an upsert or a remove, batched and made durable exactly as an add. */
  change(id: string, operation: Operation, bytes: number): Promise<void> | undefined {
    return this.accept(id, undefined, operation, bytes, false) as Promise<void> | undefined
  }

  private accept(
    id: string,
    message: Message | undefined,
    operation: Operation | undefined,
    bytes: number,
    answer: boolean,
  ): Promise<Message | undefined> | undefined {
    if (this.waiting === 0 && this.hasRoom(bytes)) {
      if (this.policy.durability === 'strict') {
        const durable = new Promise<Message | undefined>(capture)
        this.push(id, { message, operation, bytes, resolve: capturedResolve, reject: capturedReject, answer })
        this.schedule()
        return durable
      }
      this.push(id, { message, operation, bytes })
      this.afterPush()
      return undefined
    }
    // Full. While writes succeed, room comes with the next one: wait for it. While they fail,
    // waiting could last as long as the outage, so the caller hears of it now.
    if (this.failing) return Promise.reject(this.backpressure())
    if (this.waiting >= this.policy.maxPending || this.waitingBytes + bytes > this.policy.maxPendingBytes) {
      return Promise.reject(
        new MemoryError(
          'backpressure',
          `${this.waiting} adds are already waiting for room behind ${this.unsaved} pending messages (${this.unsavedBytes} bytes). Await each add() instead of starting them all at once, or raise maxPending and maxPendingBytes.`,
          { details: this.limits() },
        ),
      )
    }
    return new Promise<Message | undefined>((resolve, reject) => {
      const strict = this.policy.durability === 'strict'
      this.waiters.push({
        id,
        entry: strict
          ? { message, operation, bytes, resolve, reject, answer }
          : { message, operation, bytes, answer },
        admitted: strict ? undefined : resolve,
        refuse: reject,
      })
      this.waitersQueued++
      this.waitingBytes += bytes
      this.schedule()
    })
  }

  /** True when a message of `bytes` bytes would be taken now, without waiting for room. */
  hasRoomFor(bytes: number): boolean {
    return this.waiting === 0 && this.hasRoom(bytes)
  }

  /** True when changes to a conversation wait to be handed to the backend. */
  hasPending(id: string): boolean {
    return this.pending.has(id)
  }

  /** True when an upsert or a remove of a conversation waits: it can change any stored message. */
  hasOperations(id: string): boolean {
    const list = this.pending.get(id)
    return list?.some((entry) => entry.operation !== undefined) === true
  }

  /** True when a change not yet written (pending or being written) names message `messageId`. */
  holdsId(id: string, messageId: string): boolean {
    for (const list of [this.pending.get(id), this.writing?.get(id)]) {
      if (list === undefined) continue
      for (const entry of list) {
        const named =
          entry.message ?? (entry.operation?.op === 'upsert' ? entry.operation.message : undefined)
        if (named?.id === messageId) return true
      }
    }
    return false
  }

  /**
   * The conversation as it will be once its pending changes are written: `stored` (what the
   * backend holds, oldest first) with them applied. Never changes `stored`.
   */
  pendingView(id: string, stored: Message[]): Message[] {
    const list = this.pending.get(id)
    if (list === undefined) return stored
    const view = stored.slice()
    applyOperations(view, list.map(operationOf), this.policy.maxMessages)
    return view
  }

  /** The conversations with changes not yet handed to the backend. */
  pendingIds(): string[] {
    return Array.from(this.pending.keys())
  }

  /** Forgets the pending and waiting messages of a conversation that is being cleared. */
  drop(id: string): void {
    // The add() succeeded; the message was then cleared, which is what the caller asked for.
    const list = this.pending.get(id)
    if (list !== undefined) {
      this.pending.delete(id)
      this.pendingCount -= list.length
      for (const entry of list) {
        this.pendingBytes -= entry.bytes
        entry.resolve?.(answerOf(entry))
      }
    }
    const unwritten = this.writing?.get(id)
    if (unwritten !== undefined) {
      // Not yet handed to the backend by the write in progress: it will not be.
      this.writing?.delete(id)
      this.writingCount -= unwritten.length
      for (const entry of unwritten) {
        this.writingBytes -= entry.bytes
        entry.resolve?.(answerOf(entry))
      }
    }
    if (this.writing !== undefined) this.clearedWhileWriting.add(id)
    // Dropped as the caller asked: a flush no longer reports that they were refused.
    this.refused.delete(id)
    if (this.waiting > 0) {
      const kept: Waiter[] = []
      for (let i = this.waitHead; i < this.waiters.length; i++) {
        const waiter = this.waiters[i] as Waiter
        if (waiter.id !== id) {
          kept.push(waiter)
          continue
        }
        this.waitingBytes -= waiter.entry.bytes
        this.waitersSettled++
        waiter.admitted?.(answerOf(waiter.entry))
        waiter.entry.resolve?.(answerOf(waiter.entry))
      }
      this.waiters = kept
      this.waitHead = 0
    }
    this.admit()
  }

  /**
   * Writes everything pending now, and the adds waiting for room at the time of the call; rejects
   * with the backend's error if a write fails.
   */
  async flush(): Promise<void> {
    const target = this.waitersQueued
    let settledBefore: number
    do {
      settledBefore = this.waitersSettled
      await this.queue.run(() => this.writePending())
      // Adds let in while that write made room are pending now: write them too.
    } while (settledBefore < target && this.waitersSettled > settledBefore)
  }

  /**
   * As {@link flush}, then resolves with the error that reports the batched changes the backend
   * refused for their conversation and that were dropped (see {@link refusalError}), or undefined.
   * A refusal is reported by every such call that started before one of them settled with it, and
   * by none started later: a change accepted before the call, or while it ran, is on disk once it
   * resolves with undefined. Rejects, reporting nothing, if a write fails (the changes are kept).
   */
  async flushReporting(): Promise<MemoryError | undefined> {
    const ticket = this.nextTicket++
    this.watching++
    try {
      await this.flush()
    } finally {
      this.watching--
    }
    return this.refusals(ticket)
  }

  /**
   * Writes what is pending as soon as the queue allows, also after a failed write: the backend
   * calls this when it knows a retry can succeed (a reconnect), so nothing waits for the timer.
   */
  requestFlush(): void {
    if (this.pendingCount === 0) return
    this.failing = false
    this.schedule()
  }

  /** Stops timers and rejects waiters: used by destroy(). */
  stop(reason: unknown): void {
    this.stopped = true
    this.stopReason = reason
    this.disarm()
    for (const list of this.pending.values()) for (const entry of list) entry.reject?.(reason)
    this.pending.clear()
    this.pendingCount = 0
    this.pendingBytes = 0
    this.refuseWaiters(reason)
  }

  /** Stops the timer (close() flushes explicitly). */
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** What the flush with `ticket` reports, marking it reported for the flushes that start later. */
  private refusals(ticket: number): MemoryError | undefined {
    const found: Array<[string, Refusal]> = []
    for (const entry of this.refused) {
      const reportedBefore = entry[1].reportedBefore
      if (reportedBefore === undefined || ticket < reportedBefore) found.push(entry)
    }
    for (const [, refusal] of found) refusal.reportedBefore ??= this.nextTicket
    // Once no flush that started before the report is running, nobody needs a reported one.
    if (this.watching === 0) {
      for (const [id, refusal] of this.refused)
        if (refusal.reportedBefore !== undefined) this.refused.delete(id)
    }
    return found.length === 0 ? undefined : refusalError(this.backendName, found)
  }

  /** Remembers that the backend refused `dropped` batched changes to `id`, for the next flush(). */
  private recordRefusal(id: string, error: MemoryError, dropped: number): void {
    const known = this.refused.get(id)
    if (known !== undefined && known.reportedBefore === undefined) known.dropped += dropped
    else this.refused.set(id, { error, dropped, reportedBefore: undefined })
  }

  private hasRoom(bytes: number): boolean {
    return (
      this.pendingCount + this.writingCount < this.policy.maxPending &&
      this.pendingBytes + this.writingBytes + bytes <= this.policy.maxPendingBytes
    )
  }

  private limits(): Record<string, unknown> {
    return {
      pending: this.unsaved,
      pendingBytes: this.unsavedBytes,
      waiting: this.waiting,
      maxPending: this.policy.maxPending,
      maxPendingBytes: this.policy.maxPendingBytes,
    }
  }

  private backpressure(): MemoryError {
    return new MemoryError(
      'backpressure',
      `${this.unsaved} messages are waiting to be written (${this.unsavedBytes} bytes), the maxPending or maxPendingBytes limit, and the last write failed (${reason(this.lastFailure)}). Wait for flush() to succeed or raise maxPending and maxPendingBytes.`,
      { details: this.limits(), cause: this.lastFailure },
    )
  }

  private push(id: string, entry: Pending): void {
    let list = this.pending.get(id)
    if (list === undefined) {
      list = []
      this.pending.set(id, list)
    }
    list.push(entry)
    this.pendingCount++
    this.pendingBytes += entry.bytes
  }

  /** Starts a write when a batch is complete, else makes sure the timer will start one. */
  private afterPush(): void {
    if (
      !this.failing &&
      (this.pendingCount >= this.policy.saveEvery || this.pendingBytes >= this.policy.maxBatchBytes)
    ) {
      this.schedule()
    } else {
      this.arm()
    }
  }

  /** Lets waiting adds in, oldest first, while there is room. */
  private admit(): void {
    let admitted = false
    while (this.waiting > 0) {
      const waiter = this.waiters[this.waitHead] as Waiter
      if (!this.hasRoom(waiter.entry.bytes)) break
      this.waiters[this.waitHead] = undefined as never
      this.waitHead++
      this.waitingBytes -= waiter.entry.bytes
      this.waitersSettled++
      this.push(waiter.id, waiter.entry)
      waiter.admitted?.(answerOf(waiter.entry))
      admitted = true
    }
    if (this.waiting === 0 && this.waitHead > 0) {
      this.waiters = []
      this.waitHead = 0
    }
    if (!admitted || this.stopped) return
    if (this.policy.durability === 'strict' || this.waiting > 0) this.schedule()
    else this.afterPush()
  }

  private refuseWaiters(error: unknown): void {
    for (let i = this.waitHead; i < this.waiters.length; i++) {
      const waiter = this.waiters[i] as Waiter
      this.waitersSettled++
      waiter.refuse(error)
    }
    this.waiters = []
    this.waitHead = 0
    this.waitingBytes = 0
  }

  private arm(): void {
    if (this.timer !== undefined || this.stopped || this.pendingCount === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.schedule()
    }, this.policy.flushIntervalMs)
    // A forgotten store must not keep the process alive; exit hooks flush instead.
    this.timer.unref()
  }

  private schedule(): void {
    if (this.flushQueued || this.stopped) return
    this.flushQueued = true
    this.queue.run(() => this.writePending()).catch((error: unknown) => this.hooks.error(error))
  }

  /**
   * Takes the next backend call's share of `taken`, oldest first per conversation: whole
   * conversations while they fit in `maxBatchBytes`, then the part of the next one that fits (at
   * least one message, so a write always progresses).
   */
  private cut(taken: Map<string, Pending[]>): Chunk {
    const batch: BatchEntry[] = []
    const lists: Array<[string, Pending[]]> = []
    let count = 0
    let bytes = 0
    let messageBytes = 0
    for (const [id, list] of taken) {
      let size = bytes + conversationOverhead(id)
      let n = 0
      while (n < list.length) {
        const entryBytes = (list[n] as Pending).bytes
        const next = size + entryBytes + MESSAGE_OVERHEAD
        if (next > this.policy.maxBatchBytes && count + n > 0) break
        size = next
        messageBytes += entryBytes
        n++
      }
      if (n === 0) break
      const part = n === list.length ? list : list.slice(0, n)
      // One pass, no callbacks: in strict mode with many writers this runs once per message.
      let messages: Message[] | undefined = []
      for (const entry of part) {
        if (entry.operation !== undefined) {
          messages = undefined
          break
        }
        messages.push(entry.message as Message)
      }
      batch.push(
        messages === undefined ? { id, messages: [], operations: part.map(operationOf) } : { id, messages },
      )
      lists.push([id, part])
      count += n
      bytes = size
      if (n < list.length) {
        taken.set(id, list.slice(n))
        break
      }
      taken.delete(id)
    }
    return { batch, lists, count, bytes: messageBytes }
  }

  private async writePending(): Promise<void> {
    this.flushQueued = false
    if (this.pendingCount === 0) return
    this.disarm()
    const taken = this.pending
    this.pending = new Map()
    this.writing = taken
    this.writingCount = this.pendingCount
    this.writingBytes = this.pendingBytes
    this.pendingCount = 0
    this.pendingBytes = 0
    try {
      while (taken.size > 0) {
        if (this.stopped) {
          // destroy() came while this write ran: what it had not reached is dropped.
          for (const list of taken.values()) for (const entry of list) entry.reject?.(this.stopReason)
          taken.clear()
          break
        }
        const chunk = this.cut(taken)
        this.clearedWhileWriting.clear()
        const started = performance.now()
        const trace = this.writer.trace(chunk.batch)
        const outcome = typeof trace === 'object' ? trace : undefined
        let result: AppendResult
        try {
          result = await (trace === 'whole'
            ? this.writer.traced(chunk.batch, started)
            : this.writer.append(chunk.batch))
        } catch (cause) {
          if (outcome !== undefined) this.writer.failed(outcome, cause, performance.now() - started)
          throw this.failed(cause, chunk, taken)
        }
        const durationMs = performance.now() - started
        if (outcome !== undefined) this.writer.saved(outcome, chunk.batch, result, durationMs)
        this.saves++
        this.bytesWritten += result.bytes
        this.lastSaveMs = durationMs
        this.failing = false
        this.writingCount -= chunk.count
        this.writingBytes -= chunk.bytes
        let written = chunk.count
        for (const [id, list] of chunk.lists) {
          const failed = result.failed?.get(id)
          if (failed === undefined) {
            for (const entry of list) entry.resolve?.(answerOf(entry))
            continue
          }
          // Only this conversation failed: its strict adds reject, and its batched messages are
          // dropped and reported rather than kept, or they would pile up to maxPending for all.
          // The rest of its backlog, in later chunks, goes the same way, so order is kept.
          written -= list.length
          let dropped = list.length
          for (const entry of list) entry.reject?.(failed)
          const rest = taken.get(id)
          if (rest !== undefined) {
            taken.delete(id)
            dropped += rest.length
            for (const entry of rest) {
              this.writingCount--
              this.writingBytes -= entry.bytes
              entry.reject?.(failed)
            }
          }
          if (this.policy.durability === 'batched') {
            // Nobody waits for these changes: the next flush() reports them, unless the
            // conversation was cleared meanwhile, as its caller asked.
            if (!this.clearedWhileWriting.has(id)) this.recordRefusal(id, failed, dropped)
            this.hooks.error(failed)
          }
        }
        this.hooks.save({
          messages: written,
          conversations: chunk.batch.length - (result.failed?.size ?? 0),
          bytes: result.bytes,
          durationMs,
        })
        this.admit()
      }
    } finally {
      this.writing = undefined
      this.writingCount = 0
      this.writingBytes = 0
      this.clearedWhileWriting.clear()
      if (this.pendingCount > 0) {
        if (this.policy.durability === 'strict' && !this.stopped) this.schedule()
        else this.afterPush()
      }
    }
  }

  /** Settles a failed backend call: what it held and what it had not reached are kept or refused. */
  private failed(cause: unknown, chunk: Chunk, taken: Map<string, Pending[]>): MemoryError {
    const error = this.failure(cause, chunk)
    this.failing = true
    this.lastFailure = error
    if (this.policy.durability === 'strict') {
      for (const [, list] of chunk.lists) for (const entry of list) entry.reject?.(error)
    } else {
      // Back in front of what the write had not reached yet, so order per conversation holds.
      for (const [id, list] of chunk.lists) {
        if (this.clearedWhileWriting.has(id)) continue
        const rest = taken.get(id)
        taken.set(id, rest === undefined ? list : list.concat(rest))
      }
    }
    this.writing = undefined
    this.writingCount = 0
    this.writingBytes = 0
    this.requeue(taken)
    // Let in what fits now (a strict batch that failed left room); the rest would wait for as
    // long as the backend fails, so it is refused as a new add would be.
    this.admit()
    if (this.waiting > 0) this.refuseWaiters(this.backpressure())
    return error
  }

  /**
   * A backend's own failure is a `MemoryError` already; anything else it throws (a `RangeError`
   * from a string too long, a driver's error) is wrapped, so callers always get one error type.
   */
  private failure(cause: unknown, chunk: Chunk): MemoryError {
    if (cause instanceof MemoryError) return cause
    const kept =
      this.policy.durability === 'strict'
        ? 'These messages were not stored.'
        : 'They are kept in memory and the write will be retried.'
    return new MemoryError(
      'io',
      `the ${this.backendName} backend could not write ${chunk.count} message${chunk.count === 1 ? '' : 's'} of ${chunk.batch.length} conversation${chunk.batch.length === 1 ? '' : 's'} (${chunk.bytes} bytes): ${reason(cause)}. ${kept}`,
      {
        cause,
        details: { backend: this.backendName, messages: chunk.count, conversations: chunk.batch.length },
      },
    )
  }

  // What was taken and not written goes back in front of what arrived meanwhile.
  private requeue(taken: Map<string, Pending[]>): void {
    for (const [id, list] of taken) {
      const newer = this.pending.get(id) ?? []
      this.pending.set(id, newer.length === 0 ? list : list.concat(newer))
      this.pendingCount += list.length
      for (const entry of list) this.pendingBytes += entry.bytes
    }
    taken.clear()
  }
}
