/** The verdict for one message: allowed, or how long the user has to wait. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterMs: number }

export interface RateLimiterOptions {
  /** Messages allowed per window and user. */
  limit: number
  /** @default 60000 */
  windowMs?: number
  /** Users tracked at once; the least recently seen are forgotten first. @default 10000 */
  maxUsers?: number
  /** Clock, replaceable in tests. @default Date.now */
  now?: () => number
}

/**
 * A sliding-window limit per user: at most `limit` messages in any `windowMs`. It keeps the time of
 * each recent message, so a burst at the edge of a window cannot double the allowance as a fixed
 * window would.
 */
export class RateLimiter {
  readonly limit: number
  readonly windowMs: number
  readonly #maxUsers: number
  readonly #now: () => number
  // Map iteration order is insertion order: re-inserting on use keeps the oldest users first.
  readonly #hits = new Map<string, number[]>()

  constructor(options: RateLimiterOptions) {
    const { limit, windowMs = 60_000, maxUsers = 10_000, now = Date.now } = options
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`)
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`windowMs must be a positive number, got ${windowMs}`)
    }
    if (!Number.isInteger(maxUsers) || maxUsers < 1) {
      throw new RangeError(`maxUsers must be a positive integer, got ${maxUsers}`)
    }
    this.limit = limit
    this.windowMs = windowMs
    this.#maxUsers = maxUsers
    this.#now = now
  }

  /** Counts one message from `user` if the limit allows it. */
  take(user: string): RateVerdict {
    const now = this.#now()
    const recent = (this.#hits.get(user) ?? []).filter((t) => now - t < this.windowMs)
    this.#hits.delete(user)
    if (recent.length >= this.limit) {
      this.#hits.set(user, recent)
      return { allowed: false, retryAfterMs: Math.max(1, (recent[0] ?? now) + this.windowMs - now) }
    }
    recent.push(now)
    this.#hits.set(user, recent)
    if (this.#hits.size > this.#maxUsers) {
      const oldest = this.#hits.keys().next()
      if (!oldest.done) this.#hits.delete(oldest.value)
    }
    return { allowed: true }
  }
}
