// A reply that is still being written (memory.reply()): its parts are kept here as they arrive and
// handed to the store's batcher at most once per flushIntervalMs, as the text added since the last
// hand-over (an `extend` operation) or, on a backend without extend, as the whole message so far.
import type { Operation } from './backend.js'
import { isMemoryError, MemoryError } from './errors.js'
import type { Message, Role, StoredMessage } from './message.js'
import { show } from './message.js'

/** The message a reply starts from, as given to `memory.reply()`. */
export interface ReplyInput {
  /**
   * Who writes the reply.
   * @default 'assistant'
   */
  role?: Role
  /**
   * Text the reply starts with, such as the content of an unfinished reply being resumed under
   * its `id` (the reply then replaces that message).
   * @default ''
   */
  content?: string
  /** When the reply was started, as an ISO 8601 string; defaults to now. */
  timestamp?: string
  /** Its id within the conversation; defaults to a new UUID. Give the id of a message to replace it. */
  id?: string
  /** Extra JSON-serialisable fields, kept on the stored message. */
  [field: string]: unknown
}

/**
 * A message being streamed into a conversation, returned by `memory.reply()`. Its parts are
 * written as they arrive, at most once per `flushIntervalMs`; until `end()` the stored message
 * carries `unfinished: true`, so after a crash the conversation holds the reply up to its last
 * written part, marked as such.
 */
export interface Reply {
  /** The id of the reply's message in its conversation. */
  readonly id: string
  /** The conversation key (a number id as its decimal string). */
  readonly conversation: string
  /** The text so far. */
  readonly content: string
  /** `'streaming'` until `end()` or `abort()` is called. */
  readonly state: 'streaming' | 'ended' | 'aborted'
  /**
   * Adds text to the reply. Synchronous, and costs the length of `delta`, never of the reply:
   * the text is written with the next part, at most `flushIntervalMs` later.
   */
  append(delta: string): void
  /**
   * Writes the text appended so far now: resolves once it is durable in strict mode, once the
   * backend has it in batched mode.
   */
  flush(): Promise<void>
  /**
   * Stores the final reply (its `unfinished` mark removed) and resolves with the message. Durable
   * when it resolves in strict mode; written with the next batch in batched mode. If it rejects
   * the reply stays open: call `end()` again, which rewrites the whole message.
   */
  end(): Promise<StoredMessage>
  /**
   * Stops the reply, keeping the text that arrived: the stored message keeps `unfinished: true`
   * and gets `aborted: true`, plus `abortReason` when a reason is given (a string, or an Error's
   * message, at most 200 characters kept). Resolves with the message, as `end()` does.
   */
  abort(reason?: unknown): Promise<StoredMessage>
}

/** What a reply needs from its store. */
export interface ReplyHost {
  /** True in strict durability mode: a hand-over resolves once it is durable. */
  readonly strict: boolean
  /** True when the backend applies `extend` operations. */
  readonly extend: boolean
  readonly flushIntervalMs: number
  readonly maxMessageBytes: number
  /** Throws `MemoryError` `closed` when the store no longer takes new text. */
  assertOpen(): void
  /**
   * Undefined while the store takes changes; else the `closed` rejection, which settles only once
   * a close under way has finished (see Store.refuse).
   */
  refused(): Promise<never> | undefined
  /** Queues a change for the batcher (see `Batcher.change`). */
  change(key: string, operation: Operation, bytes: number): Promise<void> | undefined
  /** Writes everything pending now. */
  flush(): Promise<void>
  /** Reports a failed background hand-over. */
  error(error: unknown): void
  /** Called once the reply was ended or aborted and its last part handed over. */
  settled(reply: ReplyStream): void
}

// What an operation costs in a journal record or a command beyond its text (as the store's
// OPERATION_OVERHEAD), and what the marks `,"unfinished":true,"aborted":true` and an abort reason
// of at most MAX_REASON characters (6 bytes each once escaped) add to a message.
const OVERHEAD = 24
const MAX_REASON = 200
const MARK_BYTES = 34
const REASON_BYTES = MAX_REASON * 6 + 16

/** Bytes of `text` inside a JSON string: an upper bound for text cut between two surrogates. */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2
}

function abortReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined
  if (typeof reason === 'string') return reason.slice(0, MAX_REASON)
  if (reason instanceof Error) return String(reason.message).slice(0, MAX_REASON)
  throw new TypeError(`reason must be a string or an Error, got ${show(reason)}`)
}

export class ReplyStream implements Reply {
  readonly id: string
  state: 'streaming' | 'ended' | 'aborted' = 'streaming'
  /** True once the conversation was cleared or the message removed: nothing more is written. */
  dropped = false
  /** Text handed to the batcher (a rope: `+=` does not copy it). */
  private sent: string
  /** Text appended since the last hand-over. */
  private parts: string[] = []
  private unsentBytes = 0
  /** Bytes of the message's JSON form with the marks, an upper bound checked against maxMessageBytes. */
  private bytes: number
  /** The next hand-over must write the whole message: it was never written, or a write failed. */
  private rewrite = true
  /**
   * True once a hand-over was taken (pending or written): the message is in the conversation
   * unless it was removed or `maxMessages` pushed it out since, so a whole rewrite only replaces it
   * (`ifPresent`) and a reply gone that way stays gone, as an extend of a missing id does.
   */
  private stored = false
  private inflight: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private reason: string | undefined
  private readonly base: Message

  constructor(
    private readonly host: ReplyHost,
    readonly conversation: string,
    base: Message,
    baseBytes: number,
    /**
     * True when the store made the id: no stored message can have it, so the first write is an
     * add, not an upsert that a backend must look up (SQLite walks the conversation for it).
     */
    private fresh = false,
  ) {
    this.id = base.id as string
    this.sent = base.content
    // The marks are the reply's to set: a resumed message given with them starts unmarked.
    const { unfinished: _u, aborted: _a, abortReason: _r, ...fields } = base
    this.base = fields as Message
    this.bytes = baseBytes + MARK_BYTES
  }

  /**
   * Reports a hand-over that failed with nobody awaiting it. A failed write the batcher reports
   * itself (the `error` event); a change it refused before writing (closed, backpressure) not.
   */
  private readonly report = (error: unknown): void => {
    if (isMemoryError(error, 'closed') || isMemoryError(error, 'backpressure') || !this.host.strict) {
      this.host.error(error)
    }
  }

  get content(): string {
    return this.sent + this.unsent
  }

  /** The text appended since the last hand-over. */
  get unsent(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')]
    return this.parts[0] ?? ''
  }

  /** Writes the message as it starts, so it takes its place in the conversation now. */
  start(): void {
    this.handOver().catch(this.report)
  }

  append(delta: string): void {
    if (typeof delta !== 'string') throw new TypeError(`delta must be a string, got ${show(delta)}`)
    this.assertStreaming('append()')
    this.host.assertOpen()
    if (delta.length === 0) return
    const bytes = jsonBytes(delta)
    if (this.bytes + bytes > this.host.maxMessageBytes) {
      throw new RangeError(
        `the reply would be about ${this.bytes + bytes} bytes once serialised with this delta of ${delta.length} characters, above maxMessageBytes (${this.host.maxMessageBytes}): end() this reply and continue in a new one, or raise maxMessageBytes. The delta was not added`,
      )
    }
    this.bytes += bytes
    // A dropped reply writes nothing more, but its text still grows: `content`, `end()` and
    // `abort()` give the whole reply, for the bot to send.
    if (this.dropped) {
      this.sent += delta
      return
    }
    this.parts.push(delta)
    this.unsentBytes += bytes
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.handOver().catch(this.report)
      }, this.host.flushIntervalMs)
      // A forgotten reply must not keep the process alive; the store's exit hooks hand it over.
      this.timer.unref()
    }
  }

  async flush(): Promise<void> {
    this.disarm()
    await this.handOver()
    if (!this.host.strict) await this.host.flush()
  }

  end(): Promise<StoredMessage> {
    return this.finish('end')
  }

  async abort(reason?: unknown): Promise<StoredMessage> {
    this.assertStreaming('abort()')
    this.reason = abortReason(reason)
    if (this.reason !== undefined) this.bytes += REASON_BYTES
    return this.finish('abort')
  }

  /** Hands the unsent text over now (store flush, close, exit); never rejects. */
  async handOverNow(): Promise<void> {
    this.disarm()
    await this.handOver().catch(this.report)
  }

  /**
   * Stops writing: the conversation was cleared, the message removed, or the store destroyed. The
   * text not handed over yet stays in the reply (its `content`), never written.
   */
  drop(): void {
    this.dropped = true
    this.sent += this.unsent
    this.parts = []
    this.unsentBytes = 0
    this.disarm()
  }

  private async finish(how: 'end' | 'abort'): Promise<StoredMessage> {
    this.assertStreaming(`${how}()`)
    if (!this.dropped) {
      const refused = this.host.refused()
      if (refused !== undefined) return refused
    }
    this.state = how === 'end' ? 'ended' : 'aborted'
    this.disarm()
    try {
      await this.handOver(how)
    } catch (error) {
      this.state = 'streaming'
      throw error
    }
    this.host.settled(this)
    return this.message(how) as StoredMessage
  }

  /**
   * Hands the text appended since the last hand-over to the batcher, after the previous hand-over
   * settled: so a failed write is known before the next part goes, which then rewrites the whole
   * message instead of extending one that lacks the failed part.
   */
  private handOver(final?: 'end' | 'abort'): Promise<void> {
    if (this.inflight !== undefined) return this.inflight.then(() => this.handOver(final))
    let sent: Promise<void> | undefined
    try {
      sent = this.send(final)
    } catch (error) {
      return Promise.reject(error)
    }
    if (sent === undefined) return Promise.resolve()
    const result = sent.catch((error: unknown) => {
      this.rewrite = true
      throw error
    })
    const tracked: Promise<void> = result.then(
      () => this.settle(tracked),
      () => this.settle(tracked),
    )
    this.inflight = tracked
    return result
  }

  private settle(tracked: Promise<void>): void {
    if (this.inflight === tracked) this.inflight = undefined
  }

  private send(final: 'end' | 'abort' | undefined): Promise<void> | undefined {
    if (this.dropped) return undefined
    const chunk = this.unsent
    if (chunk === '' && final === undefined && !this.rewrite) return undefined
    const whole = this.rewrite || !this.host.extend || final === 'abort'
    const chunkBytes = this.unsentBytes
    this.parts = []
    this.unsentBytes = 0
    this.sent += chunk
    this.rewrite = false
    let operation: Operation
    let bytes: number
    if (whole) {
      const message = this.message(final)
      operation = this.fresh
        ? { op: 'add', message }
        : this.stored
          ? { op: 'upsert', message, ifPresent: true }
          : { op: 'upsert', message }
      // Once handed over (written or pending), the message exists: later rewrites replace it.
      this.fresh = false
      bytes = this.bytes + OVERHEAD
    } else {
      operation =
        final === 'end'
          ? { op: 'extend', id: this.id, text: chunk, finish: true }
          : { op: 'extend', id: this.id, text: chunk }
      bytes = chunkBytes + this.id.length * 6 + OVERHEAD
    }
    try {
      const taken = this.host.change(this.conversation, operation, bytes)
      if (taken === undefined) {
        this.stored = true
        return undefined
      }
      return taken.then(() => {
        this.stored = true
      })
    } catch (error) {
      // Not queued: the text is in `sent`, so the next hand-over writes the whole message.
      this.rewrite = true
      throw error
    }
  }

  /** The message as stored after the text handed over so far, marked as `final` says. */
  private message(final: 'end' | 'abort' | undefined): Message {
    const message: Message = { ...this.base, content: this.sent }
    if (final !== 'end') message.unfinished = true
    if (final === 'abort') {
      message.aborted = true
      if (this.reason !== undefined) message.abortReason = this.reason
    }
    return message
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private assertStreaming(call: string): void {
    if (this.state === 'streaming') return
    throw new MemoryError(
      'closed',
      `reply ${JSON.stringify(this.id)} of conversation ${JSON.stringify(this.conversation)} was already ${this.state === 'ended' ? 'ended' : 'aborted'}; ${call} is not allowed after it and nothing was written. Start a new reply with memory.reply().`,
      { details: { conversation: this.conversation, id: this.id, state: this.state } },
    )
  }
}
