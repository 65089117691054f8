import type { UIMessage } from 'ai'
import { MemoryError } from '../../errors.js'
import { jsonCopy } from '../../json-value.js'
import type { Memory } from '../../memory-api.js'
import { type ConversationId, conversationKey, type MessageInput, show } from '../../message.js'
import { planSave } from './save-plan.js'
import { checkUIMessages, textOf, UI_MESSAGE_FIELD, uiMessageOf } from './ui-message.js'

/** What {@link ChatStore.saveChat} receives: the chat's id and all its messages. */
export interface SaveChatOptions<M extends UIMessage = UIMessage> {
  /** The chat, a conversation of the store. */
  chatId: ConversationId
  /** Every message of the chat, oldest first, as `useChat()` or `onFinish` hold them. */
  messages: readonly M[]
}

/** What one {@link ChatStore.saveChat} wrote. */
export interface SaveChatResult {
  /** New messages appended. */
  added: number
  /** Stored messages rewritten: changed, or moved to follow the chat's order. */
  updated: number
  /** Stored messages no longer in the chat, removed (a moved message counts as updated only). */
  removed: number
  /** Messages already stored as given: not written. */
  unchanged: number
  /** Messages older than the oldest stored one, taken as trimmed by `maxMessages`: not written. */
  skipped: number
}

/** A bad message's TypeError or RangeError, naming it as saveChat() was given it. */
function namedError(error: unknown, index: number, id: string): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error
  // Its text is stored twice: as the message's content (what history() and the other integrations
  // read) and inside the UIMessage's parts.
  const twice = /maxMessageBytes/.test(error.message)
    ? '; a UIMessage holds its text twice (content, and its parts), so the longest text it can have is about half of maxMessageBytes'
    : ''
  const named = new (error.constructor as typeof TypeError)(
    `messages[${index}] (id ${JSON.stringify(id)}): ${error.message}${twice}`,
  )
  return Object.assign(named, { cause: error })
}

/** AI SDK chats kept in a {@link Memory} store, returned by {@link createChatStore}. */
export interface ChatStore<M extends UIMessage = UIMessage> {
  /**
   * The chat's messages, oldest first, exactly as they were saved; `[]` for an unknown chat. A
   * message added to the conversation by other means comes back as one text part.
   */
  loadChat(chatId: ConversationId): Promise<M[]>
  /**
   * Stores the chat: new messages are appended, changed ones rewritten, missing ones removed, and
   * messages already stored as given are not written again, so saving the whole array after every
   * turn costs only what changed. Every message is checked before anything is written.
   */
  saveChat(options: SaveChatOptions<M>): Promise<SaveChatResult>
}

/**
 * Keeps Vercel AI SDK chats (`UIMessage` arrays) in a store of any backend. Each message is kept
 * whole in its `uiMessage` field, next to its text as `content`, so `history()`, `context()` and
 * token budgets work on the same conversation.
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 * import { createChatStore } from '@taurobot/memory/ai-sdk'
 *
 * const chats = createChatStore(await openMemory({ path: 'memory/chats.json' }))
 * const messages = await chats.loadChat(chatId)
 * // ...after the reply, with the messages useChat() sent plus the reply:
 * await chats.saveChat({ chatId, messages })
 * ```
 */
export function createChatStore<M extends UIMessage = UIMessage>(
  memory: Memory,
  /** There are none: one store keeps each chat as the conversation of its chatId. */
  options?: never,
): ChatStore<M> {
  if (typeof memory !== 'object' || memory === null || typeof memory.history !== 'function') {
    throw new TypeError(`memory must be a store returned by openMemory(), got ${show(memory)}`)
  }
  // It has no options: a second argument (a prefix, say) would be ignored without a word.
  if (options !== undefined) {
    throw new TypeError(
      `createChatStore takes only the store, got a second argument (${show(options)}); one store keeps each chat as the conversation of its chatId: open another store for another namespace`,
    )
  }
  // Saves of one chat run one after another: each compares with what the one before wrote.
  const running = new Map<string, Promise<unknown>>()
  function serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (running.get(key) ?? Promise.resolve()).then(task, task)
    const settled = result.then(
      () => undefined,
      () => undefined,
    )
    running.set(key, settled)
    void settled.then(() => {
      if (running.get(key) === settled) running.delete(key)
    })
    return result
  }

  return {
    async loadChat(chatId) {
      const key = conversationKey(chatId, 'chatId')
      return serial(key, async () => {
        const messages: M[] = []
        for (const stored of await memory.history(key)) {
          const message = uiMessageOf(stored)
          if (message === undefined) {
            throw new MemoryError(
              'unsupported',
              `conversation ${JSON.stringify(key)} holds message ${JSON.stringify(stored.id)} with role ${show(stored.role)}, which a UIMessage cannot have. Keep AI SDK chats in conversations of their own.`,
              { details: { conversation: key, id: stored.id, role: stored.role } },
            )
          }
          // A copy: the AI SDK may change messages in place, which must not change what the
          // store holds (and would make the next save look unchanged).
          messages.push(jsonCopy(message) as M)
        }
        return messages
      })
    },

    async saveChat(options) {
      if (typeof options !== 'object' || options === null) {
        throw new TypeError(`saveChat() takes { chatId, messages }, got ${show(options)}`)
      }
      const key = conversationKey(options.chatId, 'chatId')
      const messages: unknown = options.messages
      checkUIMessages(key, messages)
      return serial(key, async () => {
        const plan = planSave(await memory.history(key), messages)
        for (const id of plan.remove) await memory.remove(key, id)
        // Started in order without waiting in between: the store queues them in this order, and
        // in strict mode they share one durable write.
        const writes: Promise<unknown>[] = []
        let added = 0
        const rewritten = new Set<string>()
        for (const { message, kind, timestamp, index } of plan.write) {
          const input: MessageInput & { id: string } = {
            role: message.role,
            content: textOf(message),
            id: message.id,
            [UI_MESSAGE_FIELD]: message,
          }
          if (timestamp !== undefined) input.timestamp = timestamp
          if (kind === 'add') added++
          else rewritten.add(message.id)
          const write = kind === 'add' ? memory.add(key, input) : memory.upsert(key, input)
          writes.push(write.catch((error: unknown) => Promise.reject(namedError(error, index, message.id))))
        }
        await Promise.all(writes)
        return {
          added,
          updated: plan.write.length - added,
          removed: plan.remove.filter((id) => !rewritten.has(id)).length,
          unchanged: plan.unchanged,
          skipped: plan.skipped,
        }
      })
    },
  }
}
