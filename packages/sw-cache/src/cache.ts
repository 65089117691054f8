import { failure, type SwCacheError } from './errors.js'
import { type Limits, STORED_AT, trim } from './expiration.js'

/**
 * The default cacheability rule: a `200` of our own origin (in browsers `basic`; constructed
 * responses elsewhere are `default`), never `cors`/`opaque` ones, never `no-store`, never
 * `Vary: *` (the Cache API refuses those).
 */
export function isCacheable(response: Response): boolean {
  return (
    response.status === 200 &&
    response.type !== 'cors' &&
    !/no-store/i.test(response.headers.get('cache-control') ?? '') &&
    !response.headers.get('vary')?.includes('*')
  )
}

/**
 * Which variant of its URL `request` selects, per the headers `response`'s `Vary` names;
 * `Vary: *` makes every request a variant of its own.
 */
export function variant(response: Response, request: Request): string {
  const vary = response.headers.get('vary') ?? ''
  return vary.includes('*')
    ? `*${Math.random()}`
    : JSON.stringify(vary.split(',').map((name) => name.trim() && request.headers.get(name.trim())))
}

/** True when `response` may answer both requests: equal on every header its `Vary` names. */
export const sameVariant = (response: Response, a: Request, b: Request): boolean =>
  variant(response, a) === variant(response, b)

/**
 * A copy of `response` stamped with the storage time (0 for precached copies, whose age does not
 * matter), which is how freshness and `maxAgeSeconds` work without IndexedDB and how
 * `deleteOldCaches` recognises our caches. The copy is unredirected, so it may answer navigations.
 */
export function stamp(response: Response, now = Date.now()): Response {
  const copy = new Response(response.body, response)
  copy.headers.set(STORED_AT, String(now))
  return copy
}

/**
 * Stores a stamped clone of `response` under `request`, then applies the limits. A
 * `QuotaExceededError` is reported, purges the oldest half of this cache's entries and the write
 * is retried once; a second failure rejects.
 */
export async function store(
  cache: Cache,
  cacheName: string,
  request: Request,
  response: Response,
  limits: Limits,
  onError: (error: SwCacheError) => void,
): Promise<void> {
  try {
    await cache.put(request, stamp(response.clone()))
  } catch (cause) {
    if ((cause as Error | undefined)?.name !== 'QuotaExceededError') throw cause
    onError(
      failure(
        'quota-exceeded',
        request,
        cacheName,
        'storage quota exceeded; purged the oldest half of this cache and retried. Lower maxEntries.',
        cause,
      ),
    )
    await trim(cache, limits, true)
    await cache.put(request, stamp(response.clone()))
  }
  if (limits.maxEntries !== undefined || limits.maxAgeSeconds !== undefined) await trim(cache, limits)
}
