import type { AppendResult, BatchEntry } from './backend.js'
import { MemoryError } from './errors.js'
import type { Message } from './message.js'
import type { SerialQueue } from './serial-queue.js'

/** When to write: the part of the store options that drives batching. */
export interface BatchPolicy {
  readonly saveEvery: number
  readonly flushIntervalMs: number
  readonly durability: 'batched' | 'strict'
  readonly maxPending: number
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
  readonly message: Message
  readonly resolve?: () => void
  readonly reject?: (error: unknown) => void
}

export interface BatcherHooks {
  save(info: SaveInfo): void
  error(error: unknown): void
}

/**
 * Collects added messages and decides when they are written. Every write goes through the serial
 * queue and takes all that is pending at the moment it starts, so concurrent strict adds share one
 * backend call (group commit) and a batched store makes at most one call per `saveEvery` messages.
 */
export class Batcher {
  private pending = new Map<string, Pending[]>()
  private pendingCount = 0
  private writingCount = 0
  private writing: Map<string, Pending[]> | undefined
  private readonly clearedWhileWriting = new Set<string>()
  private flushQueued = false
  private failing = false
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  saves = 0
  bytesWritten = 0
  lastSaveMs = 0

  constructor(
    private readonly policy: BatchPolicy,
    private readonly queue: SerialQueue,
    private readonly write: (batch: BatchEntry[]) => Promise<AppendResult>,
    private readonly hooks: BatcherHooks,
  ) {}

  /** Messages accepted but not yet durable. */
  get unsaved(): number {
    return this.pendingCount + this.writingCount
  }

  /**
   * Queues a message. Returns a promise only when there is something to wait for (strict mode: it
   * settles when the message is durable; a refusal): a batched add, the common case, allocates none.
   */
  add(id: string, message: Message): Promise<void> | undefined {
    if (this.unsaved >= this.policy.maxPending) {
      return Promise.reject(
        new MemoryError(
          'backpressure',
          `${this.unsaved} messages are waiting to be written, the maxPending limit. Wait for flush() to succeed or raise maxPending.`,
          { details: { pending: this.unsaved, maxPending: this.policy.maxPending } },
        ),
      )
    }
    if (this.policy.durability === 'strict') {
      return new Promise<void>((resolve, reject) => {
        this.push(id, { message, resolve, reject })
        this.schedule()
      })
    }
    this.push(id, { message })
    if (this.pendingCount >= this.policy.saveEvery && !this.failing) this.schedule()
    else this.arm()
    return undefined
  }

  /** Pending messages of one conversation not yet handed to the backend, oldest first. */
  pendingFor(id: string): Message[] {
    return (this.pending.get(id) ?? []).map((entry) => entry.message)
  }

  /** Forgets the pending messages of a conversation that is being cleared. */
  drop(id: string): void {
    const list = this.pending.get(id)
    if (list !== undefined) {
      this.pending.delete(id)
      this.pendingCount -= list.length
      // The add() succeeded; the message was then cleared, which is what the caller asked for.
      for (const entry of list) entry.resolve?.()
    }
    if (this.writing?.has(id)) this.clearedWhileWriting.add(id)
  }

  /** Writes everything pending now; rejects with the backend's error if that write fails. */
  flush(): Promise<void> {
    return this.queue.run(() => this.writePending()).then(() => undefined)
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
    this.disarm()
    for (const list of this.pending.values()) for (const entry of list) entry.reject?.(reason)
    this.pending.clear()
    this.pendingCount = 0
  }

  /** Stops the timer (close() flushes explicitly). */
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private push(id: string, entry: Pending): void {
    let list = this.pending.get(id)
    if (list === undefined) {
      list = []
      this.pending.set(id, list)
    }
    list.push(entry)
    this.pendingCount++
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

  private async writePending(): Promise<void> {
    this.flushQueued = false
    if (this.pendingCount === 0) return
    this.disarm()
    const taken = this.pending
    this.pending = new Map()
    this.writing = taken
    this.writingCount = this.pendingCount
    this.pendingCount = 0
    const batch: BatchEntry[] = []
    for (const [id, list] of taken) batch.push({ id, messages: list.map((entry) => entry.message) })
    const started = performance.now()
    try {
      const result = await this.write(batch)
      const durationMs = performance.now() - started
      this.saves++
      this.bytesWritten += result.bytes
      this.lastSaveMs = durationMs
      this.failing = false
      let written = this.writingCount
      for (const [id, list] of taken) {
        const failed = result.failed?.get(id)
        if (failed === undefined) for (const entry of list) entry.resolve?.()
        else {
          // Only this conversation failed: its strict adds reject, and its batched messages are
          // dropped and reported rather than kept, or they would pile up to maxPending for all.
          written -= list.length
          for (const entry of list) entry.reject?.(failed)
          if (this.policy.durability === 'batched') this.hooks.error(failed)
        }
      }
      this.hooks.save({
        messages: written,
        conversations: batch.length - (result.failed?.size ?? 0),
        bytes: result.bytes,
        durationMs,
      })
    } catch (error) {
      if (this.policy.durability === 'strict') {
        for (const list of taken.values()) for (const entry of list) entry.reject?.(error)
      } else {
        this.requeue(taken)
        this.failing = true
      }
      throw error
    } finally {
      this.writing = undefined
      this.writingCount = 0
      this.clearedWhileWriting.clear()
      if (this.pendingCount > 0) {
        if (this.policy.durability === 'strict' && !this.failing) this.schedule()
        else if (this.pendingCount >= this.policy.saveEvery && !this.failing) this.schedule()
        else this.arm()
      }
    }
  }

  // A failed batch goes back in front of what arrived meanwhile, so order per conversation holds.
  private requeue(taken: Map<string, Pending[]>): void {
    for (const [id, list] of taken) {
      if (this.clearedWhileWriting.has(id)) continue
      const newer = this.pending.get(id) ?? []
      this.pending.set(id, newer.length === 0 ? list : list.concat(newer))
      this.pendingCount += list.length
    }
  }
}
