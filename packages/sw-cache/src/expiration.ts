/**
 * Response header on every copy this library stores: when it was stored, in ms since the epoch; 0
 * for a copy precached from a plain URL, and minus the time for its revalidated copies (still
 * precached: never deleted, but aged by its `max-age` like any copy); for one precached from a manifest entry, the entry's
 * revision and integrity ("rev," or ",sha…", never a number), which a later release compares to
 * reuse the copy instead of downloading it again. One header rather than two: it is all a copy
 * needs to be recognised, aged, kept and reused, and each header name costs every worker bytes.
 */
export const STORED_AT = 'sw-cache-stored-at'

/** How a cached response may be used right now, per its `Cache-Control` (RFC 9111, RFC 5861). */
export type Freshness = typeof FRESH | typeof STALE | typeof STALE_IF_ERROR | typeof EXPIRED
// Numbers rather than names: they are compared on every request and cost no bytes in the bundle.
/** Younger than its `max-age`: serve without touching the network. */
export const FRESH = 0
/**
 * Serve now and revalidate in the background. This is the strategy's default, so it also covers
 * copies without `max-age`, past a `max-age` without a `stale-while-revalidate` window, and
 * precached copies whose storage time is unknown.
 */
export const STALE = 1
/**
 * Past its explicit `stale-while-revalidate` window: the network must answer, but a network failure
 * or 5xx may still be answered with this copy (`stale-if-error` directive or the `staleIfError`
 * option).
 */
export const STALE_IF_ERROR = 2
/** Past every window, or stored longer ago than `maxAgeSeconds`: only the network may answer. */
export const EXPIRED = 3

/**
 * When `response` was stored by this library, in ms since the epoch; 0, minus the time (a precached
 * copy since revalidated) or NaN (a revision) for a precached copy, and 0 for a copy it did not
 * store. Only a positive value marks a copy that expiration may delete.
 */
export const storedAt = (response: Response): number => +(response.headers.get(STORED_AT) as string)

/** True when a stamped copy is older than the limits' `maxAgeSeconds`; precached copies never are. */
// Without maxAgeSeconds the comparison is with NaN, which is false. Math.max makes a precached
// copy's 0 or negative time, and NaN, fall back to now.
export const isExpired = (response: Response, limits: Limits): boolean =>
  Date.now() - (Math.max(storedAt(response), 0) || Date.now()) > (limits.maxAgeSeconds as number) * 1000

/**
 * Classifies a cached copy as {@link FRESH}, {@link STALE}, {@link STALE_IF_ERROR} or {@link EXPIRED},
 * per the strategy's `staleIfError` and `maxAgeSeconds` (passed as the options object itself: reading
 * them here costs the bundle fewer bytes than passing each one). A copy precached from a manifest
 * entry is always fresh: it is the release's copy of that file.
 */
export function freshness(response: Response, limits: Limits): Freshness {
  // Why revisioned copies are never refreshed in place, as Workbox never refreshes its precache: the
  // refreshed copy would come without the revision (so the next release would download the file
  // again), and carrying the revision over would label content that no release named, and that no
  // integrity check saw, as that release's file. The file changes with the next release instead,
  // which downloads it because its revision changed; until then every tab of a release sees that
  // release's files, never a mix. Copies precached from plain URLs have no revision to keep: they
  // are revalidated as usual.
  // biome-ignore lint/suspicious/noGlobalIsNan: storedAt is a number already, and the global is shorter.
  if (isNaN(storedAt(response))) return FRESH
  // Directive names are matched whole (`x-max-age` is not `max-age`), values may be quoted (RFC 9111
  // allows no spaces around "="). A missing header reads "null", which has no directives; a missing
  // directive reads NaN. One regular expression literal per directive: fewer bytes after gzip than
  // one built from the name.
  const cc = response.headers.get('cache-control') as string
  const age =
    (Date.now() - (Math.abs(storedAt(response)) || NaN)) / 1000 +
    (+(response.headers.get('age') as string) || 0) -
    +(/(^|[ ,])max-age="?(\d+)/i.exec(cc)?.[2] as string)
  return isExpired(response, limits)
    ? EXPIRED
    : age < 0
      ? FRESH
      : age >= +(/(^|[ ,])stale-while-revalidate="?(\d+)/i.exec(cc)?.[2] as string)
        ? age < (limits.staleIfError as number) ||
          age < +(/(^|[ ,])stale-if-error="?(\d+)/i.exec(cc)?.[2] as string)
          ? STALE_IF_ERROR
          : EXPIRED
        : STALE
}

/** Limits read by {@link freshness} and applied by {@link trim}: the strategy's options. */
export interface Limits {
  /** Most entries the cache may hold after the trim. */
  maxEntries?: number | undefined
  /** Stamped entries older than this are deleted, and copies older than this are expired. */
  maxAgeSeconds?: number | undefined
  /** Seconds past every window a copy may still answer a network failure or a 5xx. */
  staleIfError?: number | undefined
}

/**
 * Deletes a cache's oldest stamped entries: the expired ones, and as many more as it takes to hold
 * at most `maxEntries` (or half the entries when `shrink` is set, after a quota error). Precached
 * (unstamped) entries and the URL `keep` (the offline fallback page) count toward the limit but are
 * never deleted.
 */
export async function trim(cache: Cache, limits: Limits, keep?: string, shrink?: boolean): Promise<void> {
  // keys() lists entries in insertion order and every write re-inserts, so the oldest come first.
  const keys = await cache.keys()
  // Without maxEntries `excess` is NaN, and NaN > 0 is false: only expired entries go.
  let excess = shrink ? keys.length / 2 : keys.length - (limits.maxEntries as number)
  for (const key of keys) {
    const response = key.url !== keep && (await cache.match(key))
    if (response && storedAt(response) > 0) {
      // Deleting with the stored request removes exactly this variant, whatever its Vary header says.
      if (excess-- > 0 || isExpired(response, limits)) await cache.delete(key)
      else break
    }
  }
}
