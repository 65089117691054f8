import { BaseListChatMessageHistory } from '@langchain/core/chat_history'
import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  HumanMessage,
  isBaseMessage,
  type StoredMessage as LangChainStoredMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessageToChatMessage,
  SystemMessage,
} from '@langchain/core/messages'
import { MemoryError } from '../../errors.js'
import { jsonCopy, jsonProblem } from '../../json-value.js'
import type { Memory } from '../../memory-api.js'
import { type ConversationId, conversationKey, type Message, type MessageInput, show } from '../../message.js'
import { knownOptions } from '../../options.js'

/** Fields of {@link MemoryChatMessageHistory}. */
export interface MemoryChatMessageHistoryFields {
  /** The store, of any backend, as returned by `openMemory()`. */
  memory: Memory
  /** The conversation that holds this history, such as a chat or a session id. */
  conversationId: ConversationId
}

/** The field of a stored message that holds the LangChain message, as `toDict()` gives it. */
const LANGCHAIN_FIELD = 'langchain'
const FIELDS: ReadonlySet<string> = new Set(['memory', 'conversationId'])

// The store's roles for LangChain's message types; any other type keeps its own name (a
// ChatMessage keeps its role).
const ROLE_OF_TYPE: Readonly<Record<string, string>> = {
  human: 'user',
  ai: 'assistant',
  system: 'system',
  tool: 'tool',
}

/**
 * A LangChain chat message history kept in a conversation of a `@taurobot/memory` store. Each
 * message is stored whole (its `toDict()` form, in the `langchain` field: tool calls, tool call
 * ids, metadata, content blocks) next to its text as `content` and a role: `user` for a
 * HumanMessage, `assistant` for an AIMessage, `system`, and `tool` for a ToolMessage, so
 * `history()`, `context()` and token budgets work on the same conversation. Messages come back as
 * the classes they were added as. A message added by other means comes back as a HumanMessage,
 * AIMessage or SystemMessage by its role, or a ChatMessage with its role for any other.
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 * import { MemoryChatMessageHistory } from '@taurobot/memory/langchain'
 *
 * const memory = await openMemory({ path: 'memory/conversations.json' })
 * const history = new MemoryChatMessageHistory({ memory, conversationId: sessionId })
 * await history.addUserMessage('Ciao!')
 * const messages = await history.getMessages()
 * ```
 */
export class MemoryChatMessageHistory extends BaseListChatMessageHistory {
  /** Where LangChain files this class when it serialises one. */
  lc_namespace = ['langchain', 'stores', 'message', 'taurobot']
  private readonly memory: Memory
  private readonly key: string

  constructor(fields: MemoryChatMessageHistoryFields) {
    // The store is not passed to Serializable: it must never end up in a serialised chain.
    super()
    const record = knownOptions(fields, FIELDS)
    const memory = record.memory as Memory | undefined
    if (typeof memory !== 'object' || memory === null || typeof memory.history !== 'function') {
      throw new TypeError(`memory must be a store returned by openMemory(), got ${show(memory)}`)
    }
    this.memory = memory
    this.key = conversationKey(record.conversationId, 'conversationId')
  }

  /** The conversation's messages, oldest first, as the LangChain classes they were added as. */
  async getMessages(): Promise<BaseMessage[]> {
    const messages = await this.memory.history(this.key)
    return messages.map(toLangChain)
  }

  /** Adds one message. */
  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message])
  }

  /**
   * Adds messages in order. Every message is checked first: if one cannot be stored, none is.
   */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    const inputs = this.toInputs(messages)
    // Started in order without waiting in between: the store queues them in this order, and in
    // strict mode they share one durable write.
    await Promise.all(inputs.map((input) => this.memory.add(this.key, input)))
  }

  /** Deletes the conversation. */
  override async clear(): Promise<void> {
    await this.memory.clear(this.key)
  }

  private toInputs(messages: unknown): MessageInput[] {
    if (!Array.isArray(messages)) throw this.invalid(`messages must be an array, got ${show(messages)}`)
    const inputs: MessageInput[] = []
    const ids = new Set<string>()
    for (let i = 0; i < messages.length; i++) {
      const message: unknown = messages[i]
      if (!isBaseMessage(message)) {
        throw this.invalid(
          `messages[${i}] must be a LangChain message (HumanMessage, AIMessage...), got ${show(message)}: use addUserMessage() for plain text`,
        )
      }
      const [stored] = mapChatMessagesToStoredMessages([message]) as [LangChainStoredMessage]
      // Checked on the message's own fields: toDict() quietly turns a Date or a Map into {}.
      const data = stored.data as unknown as Record<string, unknown>
      for (const field of Object.keys(data)) {
        const own = (message as unknown as Record<string, unknown>)[field]
        const problem = jsonProblem(own === undefined ? data[field] : own, `messages[${i}].${field}`)
        if (problem !== undefined) throw this.invalid(problem)
      }
      const input: MessageInput = {
        role: roleOf(message),
        content: message.text,
        [LANGCHAIN_FIELD]: stored,
      }
      // LangChain's id, when it has one, names the message in the store too.
      if (typeof message.id === 'string' && message.id.length > 0 && message.id.length <= 256) {
        if (ids.has(message.id))
          throw this.invalid(`messages[${i}].id ${JSON.stringify(message.id)} is used twice`)
        ids.add(message.id)
        input.id = message.id
      }
      inputs.push(input)
    }
    return inputs
  }

  private invalid(problem: string): MemoryError {
    return new MemoryError(
      'invalid-input',
      `cannot add to conversation ${JSON.stringify(this.key)}: ${problem}. Nothing was written.`,
      { details: { conversation: this.key } },
    )
  }
}

function roleOf(message: BaseMessage): string {
  const type = message.getType()
  if (type === 'generic' && ChatMessage.isInstance(message)) return message.role
  return ROLE_OF_TYPE[type] ?? type
}

function toLangChain(message: Message): BaseMessage {
  const stored = message[LANGCHAIN_FIELD]
  if (typeof stored === 'object' && stored !== null) {
    // A copy: a caller changing the message in place must not change what the store holds.
    return mapStoredMessageToChatMessage(jsonCopy(stored) as LangChainStoredMessage)
  }
  const fields = { content: message.content, id: message.id }
  switch (message.role) {
    case 'user':
      return new HumanMessage(fields)
    case 'assistant':
      return new AIMessage(fields)
    case 'system':
      return new SystemMessage(fields)
    default:
      return new ChatMessage({ ...fields, role: message.role })
  }
}
