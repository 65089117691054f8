/**
 * grammY session storage in a store of `@taurobot/memory`, in its own entry so that only the bots
 * that use it need the optional `grammy` peer dependency (for its types only: nothing of grammY
 * is loaded at run time).
 *
 * @packageDocumentation
 * @module @taurobot/memory/grammy
 */

export type { SessionStorage, SessionStorageOptions } from './integrations/grammy/session-storage.js'
export { createSessionStorage } from './integrations/grammy/session-storage.js'
