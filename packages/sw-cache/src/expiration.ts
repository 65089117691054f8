/** Response header on every copy this library stores: when it was stored, in ms since the epoch (0 for precached copies). */
export const STORED_AT = 'sw-cache-stored-at'

/** How a cached response may be used right now, per its `Cache-Control` (RFC 9111, RFC 5861). */
export type Freshness = 'fresh' | 'stale' | 'stale-if-error' | 'expired'

/**
 * When `response` was stored by this library, in ms since the epoch; 0 (or NaN) for a precached
 * copy, whose storage time does not matter, or a copy it did not store.
 */
export const storedAt = (response: Response): number => Number(response.headers.get(STORED_AT))

/** True when a stamped copy is older than `maxAgeSeconds`; unstamped (precached) copies never are. */
// Without maxAgeSeconds the comparison is with NaN, which is false.
export const isExpired = (response: Response, maxAgeSeconds: number | undefined, now = Date.now()): boolean =>
  now - (storedAt(response) || now) > (maxAgeSeconds as number) * 1000

/**
 * Classifies a cached copy:
 * - `fresh`: younger than its `max-age`, serve without touching the network;
 * - `stale`: serve now and revalidate in the background. This is the strategy's default, so it also
 *   covers copies without `max-age`, past a `max-age` without a `stale-while-revalidate` window,
 *   and precached copies whose storage time is unknown;
 * - `stale-if-error`: past its explicit `stale-while-revalidate` window, the network must answer,
 *   but a network failure or 5xx may still be answered with this copy (`stale-if-error` directive
 *   or the `staleIfError` option);
 * - `expired`: past every window, only the network may answer.
 */
export function freshness(response: Response, staleIfError: number, now = Date.now()): Freshness {
  // Directive names are matched whole (`s-maxage` is not `max-age`), values may be quoted.
  const cc: Record<string, number> = {}
  for (const [, name, value] of (response.headers.get('cache-control') ?? '')
    .toLowerCase()
    .matchAll(/([\w-]+)\s*=\s*"?(\d+)/g))
    cc[name as string] = Number(value)
  // Seconds past max-age; the Age header counts the time the response spent in upstream caches.
  // NaN without a storage time or a max-age, and NaN compares false: such copies are stale, like
  // copies past a max-age without a stale-while-revalidate directive.
  const age =
    (now - (storedAt(response) || Number.NaN)) / 1000 +
    (Number(response.headers.get('age')) || 0) -
    (cc['max-age'] as number)
  return age < 0
    ? 'fresh'
    : age >= (cc['stale-while-revalidate'] as number)
      ? age < Math.max(staleIfError, cc['stale-if-error'] ?? 0)
        ? 'stale-if-error'
        : 'expired'
      : 'stale'
}

/** Limits applied by {@link trim}. */
export interface Limits {
  /** Most entries the cache may hold after the trim. */
  maxEntries?: number | undefined
  /** Stamped entries older than this are deleted. */
  maxAgeSeconds?: number | undefined
  /** Absolute URL that is never deleted (the offline fallback page). */
  keep?: string | undefined
}

/**
 * Deletes a cache's oldest stamped entries: the expired ones, and as many more as it takes to hold
 * at most `maxEntries` (or half the entries when `shrink` is set, after a quota error). Precached
 * (unstamped) entries and `keep` count toward the limit but are never deleted. Returns how many
 * entries were deleted.
 */
export async function trim(cache: Cache, limits: Limits, shrink = false, now = Date.now()): Promise<number> {
  // keys() lists entries in insertion order and every write re-inserts, so the oldest come first.
  const keys = await cache.keys()
  let excess = shrink ? keys.length >> 1 || 1 : keys.length - (limits.maxEntries ?? keys.length)
  let deleted = 0
  for (const key of keys) {
    const response = key.url !== limits.keep && (await cache.match(key))
    if (!response || !storedAt(response)) continue
    if (excess-- <= 0 && !isExpired(response, limits.maxAgeSeconds, now)) break
    // Deleting with the stored request removes exactly this variant, whatever its Vary header says.
    if (await cache.delete(key)) deleted++
  }
  return deleted
}
