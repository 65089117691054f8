/** What went wrong, as a stable string that code can switch on. */
export type SwCacheErrorCode =
  | 'manifest-failed'
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
 * The one error class of `@taurobot/sw-cache`. Messages start with the package name and name the URL
 * and the cache; in development builds they go on to say what went wrong and what to do about it,
 * in production builds they end with the `code`. `code` is stable across versions, the message is
 * not.
 */
export class SwCacheError extends Error {
  // Assigned in the constructor rather than declared as fields, which older targets would lower to
  // helper calls.
  declare readonly name: 'SwCacheError'
  declare readonly code: SwCacheErrorCode
  declare readonly details: Record<string, unknown>

  constructor(code: SwCacheErrorCode, message: string, options?: SwCacheErrorOptions) {
    // Error sets `cause` only when the options have one.
    super(`[@taurobot/sw-cache] ${message}`, options)
    this.name = 'SwCacheError'
    this.code = code
    this.details = options?.details ?? {}
  }
}

/** True when `value` is a {@link SwCacheError}, optionally with the given code. */
export function isSwCacheError(value: unknown, code?: SwCacheErrorCode): value is SwCacheError {
  return value instanceof SwCacheError && (code === undefined || value.code === code)
}

const ADVICE: Record<SwCacheErrorCode, string> = {
  'manifest-failed': 'cannot build the manifest. Check the folder.',
  'network-and-cache-failed':
    'not cached, or too old, and the network failed. Precache it, set fallback or staleIfError.',
  'precache-failed':
    'precache failed with a network error or an integrity mismatch. Fix or remove this URL; the install fails.',
  'quota-exceeded': 'quota exceeded; purged the oldest half and retried. Lower maxEntries.',
  'revalidation-failed': 'update failed; any cached copy stays.',
}

/**
 * A {@link SwCacheError} about one request in one cache; `details` holds both, and `more` (an HTTP
 * `status` there also goes into the advice). After the URL and cache name, development builds say
 * what happened and what to do; production messages say the error's code there instead. The gate is
 * the one development.ts explains: a production bundle drops the texts with it.
 */
export function failure(
  code: SwCacheErrorCode,
  request: Request,
  cacheName: string,
  cause: unknown,
  more?: { status?: number | undefined; integrity?: string | undefined },
): SwCacheError {
  let advice: string = code
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    advice = more?.status ? ADVICE[code].replace(/a network.*mismatch/, `HTTP ${more.status}`) : ADVICE[code]
  }
  return new SwCacheError(code, `${request.url} in "${cacheName}": ${advice}`, {
    cause,
    details: { url: request.url, cacheName, ...more },
  })
}
