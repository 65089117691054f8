import { estimateTokens } from './estimate-tokens.js'
import { type Message, show } from './message.js'
import { knownOptions } from './options.js'

/** What {@link HistoryOptions.onOverBudget} is told when the newest message alone is over budget. */
export interface OverBudgetInfo {
  /** The conversation key. */
  readonly conversation: string
  /** Tokens of the newest message, as counted. */
  readonly tokens: number
  /** The budget it is over. */
  readonly maxTokens: number
}

/** Options of {@link Memory.history} and {@link Memory.context}. */
export interface HistoryOptions {
  /** Return only the newest `limit` messages (still oldest first). */
  limit?: number
  /**
   * Return only the newest messages whose tokens add up to at most this many (still oldest
   * first). Messages are never split, and the newest is always returned: alone over the budget,
   * it is returned by itself and `onOverBudget` is called. Applies together with `limit`.
   */
  maxTokens?: number
  /**
   * Tokens of one message, given its `role: content` line as `context()` renders it; must return
   * a non-negative integer synchronously. Pass a real tokenizer's count for exact budgets, such
   * as `countTokens` of `gpt-tokenizer`. Only with `maxTokens`. A message's count is kept for
   * as long as the message is, per counter, so the counter should be a pure function.
   * @default estimateTokens
   */
  countTokens?: (text: string) => number
  /**
   * Called when the newest message alone is over `maxTokens` (it is returned anyway), for example
   * to shorten it before it reaches the model. Only with `maxTokens`.
   * @default a `warning` event
   */
  onOverBudget?: (info: OverBudgetInfo) => void
}

/** The parsed token options of one history() call. */
export interface TokenBudget {
  readonly maxTokens: number
  readonly countTokens: (text: string) => number
  readonly onOverBudget: ((info: OverBudgetInfo) => void) | undefined
}

const OPTION_NAMES = new Set(['limit', 'maxTokens', 'countTokens', 'onOverBudget'])

function reason(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'an unprintable error'
  }
}

/**
 * Checks the options of history() and context(): the `limit` (undefined when absent) and the
 * token budget (undefined without `maxTokens`). Every problem is a TypeError or RangeError that
 * names the option.
 */
export function historyOptions(options: unknown): {
  limit: number | undefined
  budget: TokenBudget | undefined
} {
  if (options === undefined) return { limit: undefined, budget: undefined }
  const o = knownOptions(options, OPTION_NAMES) as HistoryOptions
  let limit: number | undefined
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number')
      throw new TypeError(`limit must be a non-negative integer, got ${show(o.limit)}`)
    if (!Number.isInteger(o.limit) || o.limit < 0) {
      throw new RangeError(`limit must be a non-negative integer, got ${show(o.limit)}`)
    }
    limit = o.limit
  }
  if (o.countTokens !== undefined && typeof o.countTokens !== 'function') {
    throw new TypeError(`countTokens must be a function (text: string) => number, got ${show(o.countTokens)}`)
  }
  if (o.onOverBudget !== undefined && typeof o.onOverBudget !== 'function') {
    throw new TypeError(`onOverBudget must be a function, got ${show(o.onOverBudget)}`)
  }
  if (o.maxTokens === undefined) {
    const orphan =
      o.countTokens !== undefined ? 'countTokens' : o.onOverBudget !== undefined ? 'onOverBudget' : ''
    if (orphan !== '') {
      throw new TypeError(
        `${orphan} has no effect without maxTokens: pass maxTokens too, or leave ${orphan} out`,
      )
    }
    return { limit, budget: undefined }
  }
  if (typeof o.maxTokens !== 'number') {
    throw new TypeError(`maxTokens must be a positive integer, got ${show(o.maxTokens)}`)
  }
  if (!Number.isSafeInteger(o.maxTokens) || o.maxTokens < 1) {
    throw new RangeError(`maxTokens must be a positive integer, got ${show(o.maxTokens)}`)
  }
  return {
    limit,
    budget: {
      maxTokens: o.maxTokens,
      countTokens: o.countTokens ?? estimateTokens,
      onOverBudget: o.onOverBudget,
    },
  }
}

/** The text a message is counted as: its line in context(). */
export function contextLine(message: Message): string {
  return `${message.role}: ${message.content}`
}

interface Counted {
  readonly role: string
  readonly content: string
  readonly tokens: number
}

// Counts per counter and message object. A bot asks for the same conversation's budget every
// turn, and the file and memory backends return their own message objects, so most messages are
// counted once. Role and content are compared before a count is reused, so a message object
// changed in place is counted again.
const counted = new WeakMap<(text: string) => number, WeakMap<Message, Counted>>()

function tokensOf(budget: TokenBudget, message: Message): number {
  let cache = counted.get(budget.countTokens)
  const hit = cache?.get(message)
  if (hit !== undefined && hit.content === message.content && hit.role === message.role) return hit.tokens
  let tokens: unknown
  try {
    tokens = budget.countTokens(contextLine(message))
  } catch (cause) {
    throw new TypeError(`countTokens threw on a message: ${reason(cause)}. Check the counter you passed`, {
      cause,
    })
  }
  if (typeof tokens !== 'number') {
    throw new TypeError(
      `countTokens must return a non-negative integer synchronously, got ${tokens instanceof Promise ? 'a Promise' : show(tokens)}`,
    )
  }
  if (!Number.isSafeInteger(tokens) || tokens < 0) {
    throw new RangeError(`countTokens must return a non-negative integer, got ${show(tokens)}`)
  }
  if (cache === undefined) {
    cache = new WeakMap()
    counted.set(budget.countTokens, cache)
  }
  cache.set(message, { role: message.role, content: message.content, tokens })
  return tokens
}

/**
 * Picks, from the newest message back, those that fit `budget` and `limit`, stopping at the first
 * that does not fit so the result stays a contiguous tail; the newest is taken even alone over
 * the budget. `newestFirst` yields messages newest first.
 */
export function pickWithinBudget(
  newestFirst: Iterable<Message>,
  budget: TokenBudget,
  limit: number,
): { picked: Message[]; overBy: number | undefined; full: boolean } {
  const picked: Message[] = []
  let used = 0
  let overBy: number | undefined
  for (const message of newestFirst) {
    if (picked.length >= limit) return { picked, overBy, full: true }
    const tokens = tokensOf(budget, message)
    if (picked.length === 0) {
      picked.push(message)
      used = tokens
      if (tokens > budget.maxTokens) return { picked, overBy: tokens, full: true }
      continue
    }
    if (used + tokens > budget.maxTokens) return { picked, overBy, full: true }
    picked.push(message)
    used += tokens
  }
  return { picked, overBy, full: picked.length >= limit }
}
