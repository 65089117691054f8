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
  declare readonly code: SwCacheErrorCode
  declare readonly details: Record<string, unknown>

  constructor(code: SwCacheErrorCode, message: string, options: SwCacheErrorOptions = {}) {
    super(`[@taurobot/sw-cache] ${message}`, options.cause === undefined ? undefined : options)
    this.code = code
    this.details = options.details ?? {}
  }
}

/** True when `value` is a {@link SwCacheError}, optionally with the given code. */
export function isSwCacheError(value: unknown, code?: SwCacheErrorCode): value is SwCacheError {
  return value instanceof SwCacheError && (code === undefined || value.code === code)
}

/**
 * Throws the `TypeError` (or `RangeError`) of a bad argument unless `valid`; the message names the
 * option and the value, e.g. `maxEntries must be a positive integer, got 0`.
 */
export function assertOption(
  valid: unknown,
  name: string,
  expected: string,
  value: unknown,
  Kind: typeof TypeError = TypeError,
): void {
  if (!valid)
    throw new Kind(
      `${name} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    )
}

/** A {@link SwCacheError} about one request in one cache; `details` holds both. */
export function failure(
  code: SwCacheErrorCode,
  request: Request,
  cacheName: string,
  what: string,
  cause: unknown,
): SwCacheError {
  return new SwCacheError(code, `${request.url} in "${cacheName}": ${what}`, {
    cause,
    details: { url: request.url, cacheName },
  })
}
