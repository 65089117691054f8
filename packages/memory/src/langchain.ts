/**
 * A LangChain chat message history kept in a store of `@taurobot/memory`, in its own entry so
 * that only the bots that use it need the optional `@langchain/core` peer dependency.
 *
 * @packageDocumentation
 * @module @taurobot/memory/langchain
 */

export type { MemoryChatMessageHistoryFields } from './integrations/langchain/chat-message-history.js'
export { MemoryChatMessageHistory } from './integrations/langchain/chat-message-history.js'
