import type { StorageAdapter } from 'grammy'
import { MemoryError } from '../../errors.js'
import { jsonCopy, jsonEqual, jsonProblem } from '../../json-value.js'
import type { Memory } from '../../memory-api.js'
import { type Message, show } from '../../message.js'
import { knownOptions } from '../../options.js'

/** Options of {@link createSessionStorage}. */
export interface SessionStorageOptions {
  /**
   * Put before each session key to name its conversation, keeping sessions apart from the chats
   * of the same store. May be empty when the store holds sessions only.
   * @default 'session:'
   */
  prefix?: string
}

/** A grammY `StorageAdapter` with every optional method, returned by {@link createSessionStorage}. */
export interface SessionStorage<T> extends StorageAdapter<T> {
  /** The session of `key` (a copy), or `undefined` when there is none. */
  read(key: string): Promise<T | undefined>
  /** Stores the session of `key`; a value equal to the stored one is not written again. */
  write(key: string, value: T): Promise<void>
  /** Deletes the session of `key` (its conversation). */
  delete(key: string): Promise<void>
  /** True when `key` has a session. */
  has(key: string): Promise<boolean>
  /** The keys of every session under the prefix. */
  readAllKeys(): AsyncIterable<string>
  /** The value of every session under the prefix. */
  readAllValues(): AsyncIterable<T>
  /** The key and value of every session under the prefix. */
  readAllEntries(): AsyncIterable<[key: string, value: T]>
}

/** The id and role of the one message that holds a session in its conversation. */
const SESSION_ID = 'session'
const SESSION_ROLE = 'session'
const OPTIONS: ReadonlySet<string> = new Set(['prefix'])

/**
 * grammY session storage in a store of any backend: each session is a conversation
 * (`<prefix><key>`) holding one message whose `value` field is the session, replaced in place by
 * `upsert()` at each write. A value equal to the stored one is not written again (grammY writes
 * a session back after every update that read it). Writes are as durable as the store's
 * `durability` makes them.
 *
 * @example
 * ```ts
 * import { Bot, type Context, type SessionFlavor, session } from 'grammy'
 * import { openMemory } from '@taurobot/memory'
 * import { createSessionStorage } from '@taurobot/memory/grammy'
 *
 * const memory = await openMemory({ path: 'memory/sessions.json' })
 * const bot = new Bot<Context & SessionFlavor<{ count: number }>>(token)
 * bot.use(session({ initial: () => ({ count: 0 }), storage: createSessionStorage(memory) }))
 * ```
 */
export function createSessionStorage<T>(memory: Memory, options?: SessionStorageOptions): SessionStorage<T> {
  if (typeof memory !== 'object' || memory === null || typeof memory.upsert !== 'function') {
    throw new TypeError(`memory must be a store returned by openMemory(), got ${show(memory)}`)
  }
  const record = knownOptions(options, OPTIONS)
  const given = record.prefix === undefined ? 'session:' : record.prefix
  if (typeof given !== 'string') throw new TypeError(`prefix must be a string, got ${show(given)}`)
  const prefix: string = given

  function conversation(key: unknown): string {
    if (typeof key !== 'string' || (key.length === 0 && prefix.length === 0)) {
      throw new TypeError(`session key must be a non-empty string, got ${show(key)}`)
    }
    return prefix + key
  }

  /** The message holding the session, or undefined when there is none. */
  async function stored(id: string): Promise<Message | undefined> {
    const [message] = await memory.history(id, { limit: 1 })
    if (message === undefined) return undefined
    if (message.id !== SESSION_ID || !Object.hasOwn(message, 'value')) {
      throw new MemoryError(
        'unsupported',
        `conversation ${JSON.stringify(id)} holds a message that is not a grammY session (id ${show(message.id)}, role ${show(message.role)}). Keep sessions apart with a prefix of their own (the prefix option).`,
        { details: { conversation: id } },
      )
    }
    return message
  }

  async function read(key: string): Promise<T | undefined> {
    const message = await stored(conversation(key))
    // A copy: grammY changes the session object in place, which must not change what the store
    // holds (and would make the next write look unchanged).
    return message === undefined ? undefined : jsonCopy(message.value as T)
  }

  async function* keys(): AsyncGenerator<string> {
    for await (const summary of memory.conversations()) {
      if (summary.id.startsWith(prefix) && summary.messages > 0) yield summary.id.slice(prefix.length)
    }
  }

  async function* entries(): AsyncGenerator<[key: string, value: T]> {
    for await (const key of keys()) {
      const value = await read(key)
      // Deleted since it was listed.
      if (value !== undefined) yield [key, value]
    }
  }

  return {
    read,

    async write(key, value) {
      const id = conversation(key)
      const problem = value === undefined ? 'it is undefined' : jsonProblem(value, 'the value')
      if (problem !== undefined) {
        throw new MemoryError(
          'invalid-input',
          `cannot write session ${JSON.stringify(key)}: ${problem}. Sessions are kept as JSON; nothing was written.`,
          { details: { conversation: id, key } },
        )
      }
      const held = await stored(id)
      if (held !== undefined && jsonEqual(held.value, value)) return
      await memory.upsert(id, { id: SESSION_ID, role: SESSION_ROLE, content: '', value })
    },

    async delete(key) {
      await memory.clear(conversation(key))
    },

    async has(key) {
      return (await stored(conversation(key))) !== undefined
    },

    readAllKeys: keys,

    async *readAllValues() {
      for await (const [, value] of entries()) yield value
    },

    readAllEntries: entries,
  }
}
