// What migrate() needs from a store beyond the public Memory interface. Keyed by symbols so that
// they stay out of the public API and its documentation.
import type { Message } from './message.js'

/** The store's maxMessages: how many messages per conversation it keeps. */
export const KEPT_PER_CONVERSATION: unique symbol = Symbol.for('@taurobot/memory.kept-per-conversation')

/**
 * Writes everything pending, then makes the backend's main file complete for readers of it alone
 * (the file backend rewrites its snapshot; other backends have nothing to do).
 */
export const COMPLETE_SNAPSHOT: unique symbol = Symbol.for('@taurobot/memory.complete-snapshot')

/**
 * Adds a message as add() does, except that a message without a timestamp stays without one:
 * migrate() copies messages as they are (the Python bot's may have none, and such a message is
 * never pruned; stamped with the migration's time, it could be, and would be out of order), and
 * a message whose id another message of the conversation has is copied too.
 */
export const COPY_MESSAGE: unique symbol = Symbol.for('@taurobot/memory.copy-message')

/**
 * Why a message could not be copied by {@link COPY_MESSAGE}, or undefined when it can: migrate()
 * asks for every message before it writes any, so a message the destination refuses stops the
 * migration with nothing copied.
 */
export const COPY_PROBLEM: unique symbol = Symbol.for('@taurobot/memory.copy-problem')

/** A store seen through the symbols above, when it has them. */
export interface StoreInternals {
  readonly [KEPT_PER_CONVERSATION]?: number
  readonly [COMPLETE_SNAPSHOT]?: () => Promise<void>
  readonly [COPY_MESSAGE]?: (id: string, message: Message) => Promise<unknown>
  readonly [COPY_PROBLEM]?: (message: Message) => CopyProblem | undefined
}

/** Why {@link COPY_PROBLEM} refuses a message; `bytes` when its size alone is the reason. */
export interface CopyProblem {
  readonly reason: string
  /** The message's size once serialised, above the destination's maxMessageBytes. */
  readonly bytes?: number
}
