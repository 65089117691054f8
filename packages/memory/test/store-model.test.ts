// A seeded model-based test of the store: random sequences of calls (add, addMany, upsert, remove,
// clear, streamed replies, flush, close and reopen, and calls not awaited where the README keeps
// call order) on every backend, in both durability modes, each step checked against a small model
// of what the README promises. A failure prints its seed and its steps; `MEMORY_MODEL_SEED=<n>`
// replays that seed alone, and `MEMORY_MODEL_SEEDS=<n>` (with `MEMORY_MODEL_FIRST_SEED` and
// `MEMORY_MODEL_STEPS`) runs more. Over 400 lines on purpose: the model, the calls that change it
// and the checks against it are read together, and each call is the model's change next to the
// store's.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, describe, it } from 'vitest'
import {
  type Backend,
  type ConversationId,
  fileBackend,
  isMemoryError,
  type Memory,
  type MemoryOptions,
  type MemoryStats,
  type Message,
  memoryBackend,
  openMemory,
  type Reply,
} from '../src/index.js'
import { redisBackend } from '../src/redis.js'
import { sqliteBackend } from '../src/sqlite.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './backends/redis/cluster-servers.js'
import { IN_CI, tempDir } from './helpers.js'

function envInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be an integer >= 0, got ${text}`)
  return value
}

const ONE_SEED = process.env.MEMORY_MODEL_SEED
const SEEDS: number[] =
  ONE_SEED !== undefined && ONE_SEED !== ''
    ? [envInteger('MEMORY_MODEL_SEED', 1)]
    : Array.from(
        { length: envInteger('MEMORY_MODEL_SEEDS', 32) },
        (_, i) => envInteger('MEMORY_MODEL_FIRST_SEED', 1) + i,
      )
const STEPS = envInteger('MEMORY_MODEL_STEPS', 30)

/** mulberry32: a small PRNG, so a seed gives the same sequence of calls on every run. */
class Dice {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick() from an empty list')
    return items[this.int(items.length)] as T
  }

  /** One of the keys, with the chance its weight gives it. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    let roll = this.next() * entries.reduce((sum, [, weight]) => sum + weight, 0)
    for (const [key, weight] of entries) {
      roll -= weight
      if (roll < 0) return key
    }
    return (entries.at(-1) as [K, number])[0]
  }
}

/**
 * A message as the model expects it. `id` and `timestamp` are missing while the store chose them
 * and nothing has told the model yet: the first message read back (or returned) fills them in.
 */
type Expected = Record<string, unknown>

/** What the README promises the conversations hold, changed call by call in call order. */
class Model {
  /**
   * Conversation key → the messages the backend holds, oldest first: after `maxMessages` was
   * lowered (a reopen), more than `history()` shows, until the conversation's next change. An empty
   * list: every message was removed.
   */
  readonly lists = new Map<string, Expected[]>()

  /**
   * Conversations left without messages by a remove since their last clear. The README leaves open
   * whether a backend keeps such a conversation: the in-process, file and SQLite backends keep and
   * count it, Redis drops it, so `stats().conversations` may be one higher for each of them.
   */
  readonly wentEmpty = new Set<string>()

  constructor(public maxMessages: number) {}

  /** The conversation as `history()` shows it: its newest `maxMessages`. */
  list(key: string): Expected[] {
    return (this.lists.get(key) ?? []).slice(-this.maxMessages)
  }

  /** Messages the backend still holds and `history()` no longer shows (a lowered limit), with ids. */
  hidden(key: string): Expected[] {
    const list = this.lists.get(key) ?? []
    return list.slice(0, Math.max(0, list.length - this.maxMessages)).filter((m) => m.id !== undefined)
  }

  find(key: string, id: string): Expected | undefined {
    return this.list(key).find((message) => message.id === id)
  }

  /** The list of a conversation about to change: `maxMessages` applies at each change. */
  private changing(key: string): Expected[] {
    const list = this.lists.get(key) ?? []
    this.lists.set(key, list)
    if (list.length > this.maxMessages) list.splice(0, list.length - this.maxMessages)
    return list
  }

  add(key: string, message: Expected): void {
    const list = this.changing(key)
    list.push(message)
    if (list.length > this.maxMessages) list.splice(0, list.length - this.maxMessages)
  }

  upsert(key: string, message: Expected): void {
    const list = this.changing(key)
    const at = list.findIndex((m) => m.id === message.id)
    if (at >= 0) list[at] = message
    else this.add(key, message)
  }

  /** A message `history()` does not show is gone for remove(), which then writes nothing. */
  remove(key: string, id: string): boolean {
    if (this.find(key, id) === undefined) return false
    const list = this.changing(key)
    list.splice(
      list.findIndex((m) => m.id === id),
      1,
    )
    if (list.length === 0) this.wentEmpty.add(key)
    return true
  }

  /**
   * What clear() resolves with: `undefined` when either answer is right. The README leaves open
   * whether a backend still holds a conversation whose messages were all removed (the in-process,
   * file and SQLite backends list it, empty; Redis drops it).
   */
  clear(key: string): boolean | undefined {
    const list = this.lists.get(key)
    this.lists.delete(key)
    this.wentEmpty.delete(key)
    if (list === undefined) return false
    return list.length > 0 ? true : undefined
  }

  /** Conversations with messages. */
  held(): string[] {
    return [...this.lists].filter(([, list]) => list.length > 0).map(([key]) => key)
  }

  /** Messages `history()` shows, over all conversations. */
  messages(): number {
    let total = 0
    for (const list of this.lists.values()) total += Math.min(list.length, this.maxMessages)
    return total
  }
}

/** A reply the test started and has not ended or aborted. */
interface LiveReply {
  readonly reply: Reply
  readonly key: string
  /** The message as the reply writes it, without content and marks. */
  readonly base: Expected
  /** All the text the reply holds, written or not. */
  text: string
  /** Its message was removed or its conversation cleared: it writes nothing more. */
  dropped: boolean
}

interface Target {
  readonly persistent: boolean
  make(): Backend
  cleanup(): Promise<void>
}

type Durability = 'batched' | 'strict'

const ROLES = ['user', 'assistant', 'system'] as const
const DELTAS = ['Ciao', ' come', ' stai?', ' 🎉', ' è', 'x', '\n'] as const
/** The conversations a run uses: `7` and `'7'` are the same one. */
const CONVERSATIONS: readonly ConversationId[] = ['a', 'b', 7, '7']
const KEYS = ['a', 'b', '7'] as const
const NEVER_MS = 600_000

const show = (value: unknown): string => JSON.stringify(value) ?? String(value)

class ModelFailure extends Error {}

function fail(text: string): never {
  throw new ModelFailure(text)
}

function same(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: got ${show(actual)}, expected ${show(expected)}`)
}

/** Checks one message against the model's, filling in the model's missing id and timestamp. */
function sameMessage(actual: Message, expected: Expected, what: string): void {
  for (const field of ['id', 'timestamp'] as const) {
    if (expected[field] !== undefined) continue
    const value = actual[field]
    if (typeof value !== 'string' || (field === 'timestamp' && Number.isNaN(Date.parse(value)))) {
      fail(`${what}: ${field} is ${show(value)}, expected a ${field === 'id' ? 'string' : 'timestamp'}`)
    }
    expected[field] = value
  }
  same(actual, expected, what)
}

function sameMessages(actual: Message[], expected: readonly Expected[], what: string): void {
  if (actual.length !== expected.length) {
    fail(
      `${what}: got ${actual.length} messages ${show(actual)}, expected ${expected.length} ${show(expected)}`,
    )
  }
  for (let i = 0; i < actual.length; i++) {
    sameMessage(actual[i] as Message, expected[i] as Expected, `${what}, message ${i}`)
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/** A call made (not awaited yet) and how to judge what it settles with. */
interface Started {
  readonly promise: Promise<unknown>
  check(outcome: Outcome): void
}

function resolvesWith(check: (value: unknown) => void): (outcome: Outcome) => void {
  return (outcome) => {
    if (!outcome.ok)
      fail(`rejected: ${outcome.error instanceof Error ? outcome.error.stack : show(outcome.error)}`)
    check(outcome.value)
  }
}

function settle(started: Started): Promise<Outcome> {
  return started.promise.then(
    (value): Outcome => ({ ok: true, value }),
    (error: unknown): Outcome => ({ ok: false, error }),
  )
}

/** One seed's run: the store, the model, and the steps taken so far (printed on failure). */
class Run {
  readonly dice: Dice
  readonly model: Model
  options: MemoryOptions
  readonly firstMaxMessages: number
  readonly steps: string[] = []
  readonly replies: LiveReply[] = []
  memory!: Memory
  /** The step under way (1-based), and whether its call is done and the checks run. */
  current = 0
  checking = false
  private messageIds = 0
  private clock = 0
  private saves = 0

  constructor(
    readonly seed: number,
    readonly durability: Durability,
    readonly target: Target,
  ) {
    this.dice = new Dice(seed)
    const maxMessages = 1 + this.dice.int(5)
    this.firstMaxMessages = maxMessages
    this.model = new Model(maxMessages)
    this.options = {
      durability,
      maxMessages,
      saveEvery: 1 + this.dice.int(6),
      flushIntervalMs: this.dice.pick([1, 25, NEVER_MS]),
      flushOnExit: false,
    }
  }

  async open(): Promise<void> {
    this.memory = await openMemory({ ...this.options, backend: this.target.make() })
    this.saves = 0
  }

  log(text: string): void {
    this.steps.push(`${String(this.current).padStart(3)}  ${text}`)
  }

  private newId(): string {
    return `m${++this.messageIds}`
  }

  private conversation(): { id: ConversationId; key: string } {
    const id = this.dice.pick(CONVERSATIONS)
    return { id, key: String(id) }
  }

  /** A new message input: sometimes with its own id, timestamp or extra fields. */
  private input(withId = this.dice.chance(0.5)): Expected {
    const input: Expected = {
      role: this.dice.pick(ROLES),
      content: `c${this.messageIds + 1}${this.dice.chance(0.2) ? ' è 🎉' : ''}`,
    }
    if (withId) input.id = this.newId()
    else this.messageIds++
    if (this.dice.chance(0.5))
      input.timestamp = new Date(Date.UTC(2026, 0, 1) + ++this.clock * 1000).toISOString()
    if (this.dice.chance(0.2)) input.meta = { n: this.messageIds, tags: ['t'] }
    return input
  }

  private isLiveReply(key: string, id: unknown): boolean {
    return this.replies.some((live) => live.key === key && live.reply.id === id)
  }

  /** A message of the model with a known id, not a live reply's (an upsert of one is not defined). */
  private storedMessage(key: string): Expected | undefined {
    const candidates = this.model.list(key).filter((m) => m.id !== undefined && !this.isLiveReply(key, m.id))
    return candidates.length === 0 ? undefined : this.dice.pick(candidates)
  }

  // ---- Calls: each applies itself to the model and calls the store, in the same order. ----

  add(): Started {
    const { id, key } = this.conversation()
    const input = this.input()
    const expected: Expected = { ...input }
    this.model.add(key, expected)
    this.log(`add(${show(id)}, ${show(input)})`)
    return {
      promise: this.memory.add(id, input as Message),
      check: resolvesWith((value) => sameMessage(value as Message, expected, 'add() result')),
    }
  }

  addMany(): Started {
    const { id, key } = this.conversation()
    const inputs = Array.from({ length: this.dice.int(4) }, () => this.input())
    // Invalid on purpose: an id given twice in the call, or a message without a string role.
    const first = inputs[0]
    const broken =
      first !== undefined && this.dice.chance(0.15)
        ? this.dice.pick(['duplicate', 'role'] as const)
        : undefined
    if (broken === 'duplicate' && first !== undefined) {
      first.id ??= this.newId()
      inputs.push({ ...this.input(false), id: first.id })
    }
    if (broken === 'role') inputs.push({ role: 5, content: 'bad' })
    this.log(`addMany(${show(id)}, ${show(inputs)})`)
    if (broken !== undefined) {
      return {
        promise: this.memory.addMany(id, inputs as Message[]),
        check: (outcome) => {
          if (outcome.ok) fail(`addMany() with a ${broken} message resolved: ${show(outcome.value)}`)
          const error = outcome.error
          const right =
            broken === 'duplicate'
              ? isMemoryError(error, 'duplicate-id')
              : error instanceof TypeError && /messages\[\d+\] is not valid/.test(error.message)
          if (!right) fail(`addMany() with a ${broken} message rejected with ${String(error)}`)
        },
      }
    }
    const expected = inputs.map((input) => ({ ...input }))
    for (const message of expected) this.model.add(key, message)
    return {
      promise: this.memory.addMany(id, inputs as Message[]),
      check: resolvesWith((value) => sameMessages(value as Message[], expected, 'addMany() result')),
    }
  }

  upsert(): Started {
    const { id, key } = this.conversation()
    const hidden = this.model.hidden(key)
    const existing =
      hidden.length > 0 && this.dice.chance(0.3)
        ? this.dice.pick(hidden)
        : this.dice.chance(0.7)
          ? this.storedMessage(key)
          : undefined
    const input = this.input(false)
    input.id = (existing?.id as string | undefined) ?? this.newId()
    const expected: Expected = { ...input }
    this.model.upsert(key, expected)
    this.log(`upsert(${show(id)}, ${show(input)})`)
    return {
      promise: this.memory.upsert(id, input as Message & { id: string }),
      check: resolvesWith((value) => sameMessage(value as Message, expected, 'upsert() result')),
    }
  }

  remove(): Started {
    const { id, key } = this.conversation()
    const known = this.model.list(key).filter((m) => m.id !== undefined)
    const elsewhere = [...this.model.lists.values()].flat().filter((m) => m.id !== undefined)
    const hidden = this.model.hidden(key)
    const choice = this.dice.weighted({ here: 6, hidden: 4, elsewhere: 1, unknown: 1, gone: 1 })
    let messageId: string
    if (choice === 'here' && known.length > 0) messageId = this.dice.pick(known).id as string
    else if (choice === 'hidden' && hidden.length > 0) messageId = this.dice.pick(hidden).id as string
    else if (choice === 'elsewhere' && elsewhere.length > 0)
      messageId = this.dice.pick(elsewhere).id as string
    else if (choice === 'gone' && this.messageIds > 0) messageId = `m${1 + this.dice.int(this.messageIds)}`
    else messageId = 'no-such-message'
    // Removing a reply's message stops the reply: the model no longer has the message to extend.
    const expected = this.model.remove(key, messageId)
    if (expected) this.dropReplies(key, messageId)
    this.log(`remove(${show(id)}, ${show(messageId)})`)
    return {
      promise: this.memory.remove(id, messageId),
      check: resolvesWith((value) => same(value, expected, `remove(${show(messageId)})`)),
    }
  }

  clear(): Started {
    const { id, key } = this.conversation()
    const expected = this.model.clear(key)
    this.dropReplies(key)
    this.log(`clear(${show(id)})`)
    return {
      promise: this.memory.clear(id),
      check: resolvesWith((value) => {
        if (expected === undefined) {
          if (typeof value !== 'boolean') fail(`clear() resolved with ${show(value)}`)
        } else same(value, expected, 'clear()')
      }),
    }
  }

  /** Starts a reply: a new message, the resumption of a stored one, or a refused duplicate. */
  startReply(): Started {
    const { id, key } = this.conversation()
    const kind = this.dice.weighted({ fresh: 8, resume: 2, duplicate: 1 })
    // A reply stopped by remove() or clear() no longer holds its id; one pushed out by maxMessages does.
    const live = this.replies.filter((r) => r.key === key && !r.dropped)
    if (kind === 'duplicate' && live.length > 0) {
      const other = this.dice.pick(live)
      this.log(`reply(${show(id)}, { id: ${show(other.reply.id)} }) while that reply streams`)
      try {
        this.memory.reply(id, { id: other.reply.id })
      } catch (error) {
        if (!isMemoryError(error, 'duplicate-id')) fail(`a second reply with one id threw ${String(error)}`)
        return { promise: Promise.resolve(), check: () => undefined }
      }
      fail('a second live reply with the same id was accepted')
    }
    const resumed = kind === 'resume' ? this.storedMessage(key) : undefined
    let input: Expected
    if (resumed !== undefined) {
      // As the README resumes a reply: the stored message as it is, marks included.
      input = { ...resumed }
    } else {
      input = {}
      if (this.dice.chance(0.7)) input.role = this.dice.pick(ROLES)
      if (this.dice.chance(0.5)) input.id = this.newId()
      if (this.dice.chance(0.3)) input.content = 'Ecco'
      if (this.dice.chance(0.5))
        input.timestamp = new Date(Date.UTC(2026, 0, 1) + ++this.clock * 1000).toISOString()
      if (this.dice.chance(0.3)) input.model = 'llama3.2'
    }
    this.log(`reply(${show(id)}, ${show(input)})`)
    const reply = this.memory.reply(id, input as Parameters<Memory['reply']>[1])
    const { unfinished: _u, aborted: _a, abortReason: _r, ...fields } = input
    const base: Expected = { role: 'assistant', ...fields, id: reply.id }
    delete base.content
    const text = typeof input.content === 'string' ? input.content : ''
    const expected: Expected = { ...base, content: text, unfinished: true }
    if (resumed !== undefined) this.model.upsert(key, expected)
    else this.model.add(key, expected)
    this.replies.push({ reply, key, base, text, dropped: false })
    if (reply.content !== text)
      fail(`a new reply's content is ${show(reply.content)}, expected ${show(text)}`)
    return { promise: Promise.resolve(), check: () => undefined }
  }

  appendReply(): Started | undefined {
    if (this.replies.length === 0) return undefined
    const live = this.dice.pick(this.replies)
    const deltas = Array.from({ length: 1 + this.dice.int(3) }, () => this.dice.pick(DELTAS))
    this.log(
      `reply ${show(live.reply.id)} of ${show(live.key)}: append ${deltas.map((d) => show(d)).join(', ')}`,
    )
    for (const delta of deltas) {
      live.reply.append(delta)
      live.text += delta
      // A reply whose message was removed, cleared or pushed out by maxMessages writes no more text.
      const message = this.model.find(live.key, live.reply.id)
      if (message !== undefined) message.content = `${message.content as string}${delta}`
    }
    if (live.reply.content !== live.text)
      fail(`reply content ${show(live.reply.content)}, expected ${show(live.text)}`)
    return { promise: Promise.resolve(), check: () => undefined }
  }

  flushReply(): Started | undefined {
    if (this.replies.length === 0) return undefined
    const live = this.dice.pick(this.replies)
    this.log(`reply ${show(live.reply.id)} of ${show(live.key)}: flush()`)
    return { promise: live.reply.flush(), check: resolvesWith(() => undefined) }
  }

  finishReply(): Started | undefined {
    if (this.replies.length === 0) return undefined
    const live = this.dice.pick(this.replies)
    this.replies.splice(this.replies.indexOf(live), 1)
    const how = this.dice.chance(0.7) ? 'end' : 'abort'
    const reason =
      how === 'abort'
        ? this.dice.pick([undefined, 'stopped', new Error('timeout'), 'r'.repeat(250)])
        : undefined
    const result: Expected = { ...live.base, content: live.text }
    if (how === 'abort') {
      result.unfinished = true
      result.aborted = true
      if (reason !== undefined)
        result.abortReason = (reason instanceof Error ? reason.message : reason).slice(0, 200)
    }
    const message = this.model.find(live.key, live.reply.id)
    if (message !== undefined) {
      if (how === 'end') delete message.unfinished
      else {
        message.aborted = true
        if (result.abortReason !== undefined) message.abortReason = result.abortReason
      }
    }
    this.log(
      `reply ${show(live.reply.id)} of ${show(live.key)}: ${how}(${how === 'abort' ? show(reason instanceof Error ? `Error: ${reason.message}` : reason) : ''})`,
    )
    return {
      promise: how === 'end' ? live.reply.end() : live.reply.abort(reason),
      check: resolvesWith((value) => {
        if (message !== undefined && message.timestamp === undefined) {
          message.timestamp = (value as Message).timestamp
        }
        if (result.timestamp === undefined)
          result.timestamp = message?.timestamp ?? (value as Message).timestamp
        sameMessage(value as Message, result, `reply.${how}() result`)
        const state = how === 'end' ? 'ended' : 'aborted'
        if (live.reply.state !== state) fail(`reply state ${live.reply.state} after ${how}()`)
      }),
    }
  }

  private dropReplies(key: string, messageId?: string): void {
    for (const live of this.replies) {
      if (live.key === key && (messageId === undefined || live.reply.id === messageId)) live.dropped = true
    }
  }

  // ---- Steps ----

  async step(): Promise<void> {
    const kind = this.dice.weighted({
      add: 14,
      addMany: 6,
      upsert: 10,
      remove: 9,
      clear: 3,
      reply: 6,
      append: 10,
      replyFlush: 2,
      finish: 6,
      flush: 3,
      conversations: 2,
      reopen: 3,
      concurrent: 12,
    })
    switch (kind) {
      case 'flush':
        return this.flush()
      case 'conversations':
        return this.checkConversations()
      case 'reopen':
        return this.reopen()
      case 'concurrent':
        return this.concurrent()
      default: {
        const started = this.call(kind)
        if (started !== undefined) started.check(await settle(started))
      }
    }
  }

  private call(
    kind: 'add' | 'addMany' | 'upsert' | 'remove' | 'clear' | 'reply' | 'append' | 'replyFlush' | 'finish',
  ): Started | undefined {
    switch (kind) {
      case 'add':
        return this.add()
      case 'addMany':
        return this.addMany()
      case 'upsert':
        return this.upsert()
      case 'remove':
        return this.remove()
      case 'clear':
        return this.clear()
      case 'reply':
        return this.startReply()
      case 'append':
        return this.appendReply()
      case 'replyFlush':
        return this.flushReply()
      case 'finish':
        return this.finishReply()
    }
  }

  /** Calls made one after another without awaiting any: the README keeps them in call order. */
  private async concurrent(): Promise<void> {
    const count = 2 + this.dice.int(5)
    this.log(`-- ${count} calls, not awaited:`)
    const started: Started[] = []
    for (let i = 0; i < count; i++) {
      const kind = this.dice.weighted({
        add: 5,
        addMany: 2,
        upsert: 4,
        remove: 4,
        clear: 2,
        reply: 2,
        append: 3,
      } as const)
      const call = this.call(kind)
      if (call !== undefined) started.push(call)
    }
    // flush() made last: every call above is written once it resolves, those waiting behind a
    // remove() or clear() still reading included. Then maybe close(), which writes them too (and
    // refuses the stats() call a flush() alone is checked with).
    const flush = this.dice.chance(0.3)
    const close = this.dice.chance(0.1)
    if (flush) {
      this.log('flush()')
      const flushed = this.memory.flush()
      started.push(
        close
          ? { promise: flushed, check: resolvesWith(() => undefined) }
          : {
              promise: flushed.then(() => this.memory.stats()),
              check: resolvesWith((stats) =>
                same((stats as MemoryStats).pending, 0, 'stats().pending after flush()'),
              ),
            },
      )
    }
    if (close) {
      this.log('close()')
      started.push({ promise: this.memory.close(), check: resolvesWith(() => undefined) })
    }
    this.log('-- awaited')
    const outcomes = await Promise.all(started.map(settle))
    for (let i = 0; i < started.length; i++) (started[i] as Started).check(outcomes[i] as Outcome)
    if (close) await this.reopen()
  }

  private async flush(): Promise<void> {
    this.log('flush()')
    await this.memory.flush()
    const stats = await this.memory.stats()
    if (stats.pending !== 0) fail(`stats().pending is ${stats.pending} right after flush()`)
  }

  /** close(), then a new store over the same place (the in-process backend starts empty). */
  private async reopen(): Promise<void> {
    this.log(this.target.persistent ? 'close() and reopen' : 'close() and open a new in-process store')
    const closed = this.memory
    await closed.close()
    await closed.close()
    for (const live of this.replies.splice(0)) {
      try {
        live.reply.append('late')
        fail('reply.append() after close() did not throw')
      } catch (error) {
        if (!isMemoryError(error, 'closed')) throw error
      }
    }
    const refused = await closed.history('a').then(
      () => undefined,
      (error: unknown) => error,
    )
    if (!isMemoryError(refused, 'closed')) fail(`history() after close() gave ${String(refused)}`)
    if (!this.target.persistent) {
      this.model.lists.clear()
      this.model.wentEmpty.clear()
    } else if (this.model.maxMessages > 1 && this.dice.chance(0.5)) {
      // A smaller limit than the store was written with: each conversation reads as its newest
      // maxMessages, and loses the older ones at its next change.
      const maxMessages = 1 + this.dice.int(this.model.maxMessages - 1)
      this.log(`  with maxMessages ${maxMessages}`)
      this.model.maxMessages = maxMessages
      this.options = { ...this.options, maxMessages }
    }
    await this.open()
  }

  // ---- Checks ----

  async check(): Promise<void> {
    for (const key of KEYS) {
      const expected = this.model.list(key)
      sameMessages(await this.memory.history(key), expected, `history(${show(key)})`)
      if (this.dice.chance(0.2)) {
        const limit = this.dice.int(this.model.maxMessages + 2)
        const shown = await this.memory.history(key, { limit })
        sameMessages(
          shown,
          limit === 0 ? [] : expected.slice(-limit),
          `history(${show(key)}, { limit: ${limit} })`,
        )
      }
      if (this.dice.chance(0.1)) {
        const text = expected.map((m) => `${m.role as string}: ${m.content as string}`).join('\n')
        same(await this.memory.context(key), text, `context(${show(key)})`)
      }
    }
    const stats = await this.memory.stats()
    const held = this.model.held().length
    const most = held + this.model.wentEmpty.size
    if (stats.conversations < held || stats.conversations > most) {
      fail(
        `stats().conversations is ${stats.conversations}, expected ${held}${most > held ? ` to ${most}` : ''}`,
      )
    }
    same(stats.messages, this.model.messages(), 'stats().messages')
    same(
      stats.averagePerConversation,
      stats.conversations === 0 ? 0 : stats.messages / stats.conversations,
      'stats().averagePerConversation',
    )
    if (!Number.isInteger(stats.pending) || stats.pending < 0) fail(`stats().pending is ${stats.pending}`)
    if (stats.saves < this.saves) fail(`stats().saves went from ${this.saves} to ${stats.saves}`)
    this.saves = stats.saves
  }

  async checkConversations(): Promise<void> {
    this.log('conversations()')
    const seen = new Set<string>()
    for await (const summary of this.memory.conversations()) {
      if (seen.has(summary.id)) fail(`conversations() listed ${show(summary.id)} twice`)
      seen.add(summary.id)
      const list = this.model.lists.get(summary.id)
      if (list === undefined) fail(`conversations() listed ${show(summary)}, which the model does not hold`)
      // What the backend holds: a conversation longer than a lowered maxMessages may be trimmed
      // already (the file backend trims as it loads) or at its next change (SQLite, Redis).
      const least = Math.min(list.length, this.model.maxMessages)
      if (summary.messages < least || summary.messages > list.length) {
        fail(
          `conversations() gave ${summary.messages} messages for ${show(summary.id)}, expected ${least}${list.length > least ? ` to ${list.length}` : ''}`,
        )
      }
      const last = list.at(-1)
      if (last !== undefined)
        same(summary.lastTimestamp, last.timestamp, `conversations() lastTimestamp of ${show(summary.id)}`)
    }
    for (const key of this.model.held()) if (!seen.has(key)) fail(`conversations() did not list ${show(key)}`)
  }

  describe(): string {
    const { saveEvery, flushIntervalMs } = this.options
    return `maxMessages ${this.firstMaxMessages}, saveEvery ${saveEvery}, flushIntervalMs ${flushIntervalMs}`
  }
}

async function runSeed(seed: number, durability: Durability, target: Target, label: string): Promise<void> {
  const run = new Run(seed, durability, target)
  try {
    await run.open()
    for (run.current = 1; run.current <= STEPS; run.current++) {
      run.checking = false
      await run.step()
      run.checking = true
      await run.check()
    }
    run.checking = false
    await run.checkConversations()
    // What the last store wrote is what a new one reads.
    run.log('close() and reopen, at the end')
    await run.memory.close()
    if (target.persistent) {
      run.replies.splice(0)
      await run.open()
      await run.check()
      await run.memory.close()
    }
  } catch (error) {
    const why =
      error instanceof ModelFailure ? error.message : error instanceof Error ? error.stack : show(error)
    const where =
      run.current > STEPS
        ? 'at the end'
        : `${run.checking ? 'in the checks after' : 'in'} step ${run.current}`
    throw new Error(
      `store model, ${label}: seed ${seed} (${run.describe()}) failed ${where}: ${why}\n` +
        `Replay it with MEMORY_MODEL_SEED=${seed} and -t "${label}". Steps:\n${run.steps.join('\n')}`,
      { cause: error },
    )
  } finally {
    await run.memory?.destroy().catch(() => undefined)
    await target.cleanup()
  }
}

const redisMissing = await redisUnavailable()
const admin = redisMissing === undefined ? new Redis(REDIS_URL) : undefined
const runPrefix = `taurobot-test:model:${randomUUID()}:`
afterAll(async () => {
  if (admin === undefined) return
  await deleteKeys(admin, runPrefix)
  admin.disconnect()
})

const places: Array<{ name: string; make: (seed: number) => Promise<Target> | undefined }> = [
  {
    name: 'in-process',
    make: async () => ({ persistent: false, make: () => memoryBackend(), cleanup: async () => undefined }),
  },
  {
    name: 'file',
    make: async (seed) => {
      const { dir, cleanup } = await tempDir()
      const path = join(dir, 'memory', 'conversations.json')
      // Odd seeds rewrite the snapshot whenever the journal passes half its size: compactions
      // run between the calls, not only at close().
      const compaction = seed % 2 === 1 ? { compactionMinBytes: 0, compactionRatio: 0.5 } : {}
      return { persistent: true, make: () => fileBackend({ path, ...compaction }), cleanup }
    },
  },
  {
    name: 'sqlite',
    make: async () => {
      const { dir, cleanup } = await tempDir()
      const path = join(dir, 'memory', 'conversations.db')
      return { persistent: true, make: () => sqliteBackend({ path }), cleanup }
    },
  },
  {
    name: 'redis',
    make: (seed) => {
      if (admin === undefined) return undefined
      const keyPrefix = `${runPrefix}${seed}:${randomUUID()}:`
      return Promise.resolve({
        persistent: true,
        make: () => redisBackend({ url: REDIS_URL, keyPrefix }),
        cleanup: () => deleteKeys(admin, keyPrefix),
      })
    },
  },
]

describe('the store against its model: random calls, checked after each step', () => {
  for (const place of places) {
    for (const durability of ['batched', 'strict'] as const) {
      const label = `${place.name} ${durability}`
      if (place.name === 'redis' && redisMissing !== undefined) {
        if (IN_CI)
          it(`${label}: Redis answers at REDIS_URL (required when CI=true)`, () => fail(redisMissing))
        else it.skip(`${label}: skipped, ${redisMissing}`, () => undefined)
        continue
      }
      it(
        `${label}: ${SEEDS.length} seeds of ${STEPS} steps`,
        async () => {
          for (const seed of SEEDS) {
            const target = await place.make(seed)
            if (target === undefined) throw new Error(`no target for ${label}`)
            await runSeed(seed, durability, target, label)
          }
        },
        30_000 + SEEDS.length * STEPS * 200,
      )
    }
  }
})
