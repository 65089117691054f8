/**
 * Vercel AI SDK chats (`UIMessage` arrays) kept in a store of `@taurobot/memory`, in its own entry
 * so that only the bots that use it need the optional `ai` peer dependency (for its types only:
 * nothing of `ai` is loaded at run time).
 *
 * @packageDocumentation
 * @module @taurobot/memory/ai-sdk
 */

export type { ChatStore, SaveChatOptions, SaveChatResult } from './integrations/ai-sdk/chat-store.js'
export { createChatStore } from './integrations/ai-sdk/chat-store.js'
