/** What went wrong, as a stable string that code can switch on. */
export type SwCacheErrorCode =
  | 'network-and-cache-failed'
  | 'precache-failed'
  | 'quota-exceeded'
  | 'revalidation-failed'

/** Options accepted by {@link SwCacheError}. */
export interface SwCacheErrorOptions {
  /** Machine-readable facts about the failure (URL, cache name, status...). */
  details?: Record<string, unknown>
  /** The underlying error, always set when this error wraps another one. */
  cause?: unknown
}

/**
 * The one error class of `@taurobot/sw-cache`. Messages start with the package name, say what went
 * wrong and what to do about it; `code` is stable across versions, the message is not.
 */
export class SwCacheError extends Error {
  override readonly name = 'SwCacheError'
  readonly code: SwCacheErrorCode
  readonly details: Record<string, unknown>

  constructor(code: SwCacheErrorCode, message: string, options: SwCacheErrorOptions = {}) {
    super(
      `[@taurobot/sw-cache] ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.details = options.details ?? {}
  }
}

/** True when `value` is a {@link SwCacheError}, optionally with the given code. */
export function isSwCacheError(value: unknown, code?: SwCacheErrorCode): value is SwCacheError {
  return value instanceof SwCacheError && (code === undefined || value.code === code)
}

/**
 * Builds the `TypeError`/`RangeError` thrown for a bad argument; the message names the option and
 * the value, e.g. `maxEntries must be a positive integer, got 0`.
 */
export function badOption(
  Kind: typeof TypeError | typeof RangeError,
  name: string,
  expected: string,
  value: unknown,
): Error {
  return new Kind(
    `${name} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
  )
}
