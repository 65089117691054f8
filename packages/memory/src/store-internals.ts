// What migrate() needs from a store beyond the public Memory interface. Keyed by symbols so that
// they stay out of the public API and its documentation.

/** The store's maxMessages: how many messages per conversation it keeps. */
export const KEPT_PER_CONVERSATION: unique symbol = Symbol.for('@taurobot/memory.kept-per-conversation')

/**
 * Writes everything pending, then makes the backend's main file complete for readers of it alone
 * (the file backend rewrites its snapshot; other backends have nothing to do).
 */
export const COMPLETE_SNAPSHOT: unique symbol = Symbol.for('@taurobot/memory.complete-snapshot')

/** A store seen through {@link KEPT_PER_CONVERSATION} and {@link COMPLETE_SNAPSHOT}, when it has them. */
export interface StoreInternals {
  readonly [KEPT_PER_CONVERSATION]?: number
  readonly [COMPLETE_SNAPSHOT]?: () => Promise<void>
}
