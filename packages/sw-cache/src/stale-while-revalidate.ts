import { isCacheable, stamp, variant } from './cache.js'
import { assertOption, failure, type SwCacheError, type SwCacheErrorCode } from './errors.js'
import { freshness, isExpired, trim } from './expiration.js'

/** What the strategy needs from a fetch event: a `FetchEvent`, or anything shaped like one. */
export interface FetchEventLike {
  /** The request to answer. */
  readonly request: Request
  /** Keeps the worker alive until the background revalidation settles. */
  waitUntil(promise: Promise<unknown>): void
}

/** What {@link StaleWhileRevalidateOptions.onRevalidated} receives after a cached entry was replaced. */
export interface Revalidation {
  /** The request that was revalidated. */
  request: Request
  /** The cache that holds the entry. */
  cacheName: string
  /** The copy that was in the cache before the revalidation. */
  old: Response
  /** A clone of the network response that replaced it. */
  fresh: Response
}

/** Options of {@link staleWhileRevalidate}. */
export interface StaleWhileRevalidateOptions {
  /** Cache that answers and is kept up to date. */
  cacheName: string
  /**
   * Most entries the cache holds; the oldest written are deleted first. Precached entries and the
   * fallback page count but are never deleted.
   * @default unlimited
   */
  maxEntries?: number
  /**
   * Entries stored longer ago than this are neither served nor kept. Precached entries never expire.
   * @default unlimited
   */
  maxAgeSeconds?: number
  /**
   * Path or URL of a precached page that answers navigations when both the cache and the network
   * fail. Other requests get a network error instead.
   * @default no fallback
   */
  fallback?: string
  /**
   * Seconds after a copy's `max-age` ran out during which a network failure or 5xx is still
   * answered with that stale copy, once it is past its explicit `stale-while-revalidate` window
   * (like the RFC 5861 `stale-if-error` directive, which is honoured too).
   * @default 0
   */
  staleIfError?: number
  /**
   * Decides which network responses are stored.
   * @default a 200 of the same origin, not `no-store`, not `Vary: *`
   */
  cacheable?: (response: Response, request: Request) => boolean
  /**
   * Receives failures: revalidations, quota, and requests nothing could answer. None of them ever
   * becomes an unhandled rejection.
   * @default console.warn
   */
  onError?: (error: SwCacheError) => void
  /**
   * Called after a revalidation replaced a cached entry; `broadcastUpdate()` builds one that tells
   * pages when the content changed. Its failures go to `onError`.
   * @default none
   */
  onRevalidated?: (revalidation: Revalidation) => unknown
}

/**
 * One network request per cache and URL (and variant), shared by the requests that arrive while
 * it runs: the request that started it, its response, and its background work (cache update and
 * hooks), which settles and never rejects.
 */
type Flight = [request: Request, response: Promise<Response>, done: Promise<unknown>]

const flights = new Map<string, Flight>()

/**
 * Answers a fetch event stale-while-revalidate: from the cache at once when it holds a copy, while
 * one background request per URL refreshes it under `event.waitUntil`; from the network on a miss.
 * When neither can answer and no fallback applies, it reports one `network-and-cache-failed`
 * {@link SwCacheError} to `onError` and resolves with `Response.error()`, a network error for the
 * page. It never rejects (bad options throw synchronously).
 *
 * @example
 * ```ts
 * addEventListener('fetch', (e) => {
 *   if (e.request.method !== 'GET') return
 *   e.respondWith(staleWhileRevalidate(e, { cacheName: 'taurobot-v2', maxEntries: 100, fallback: '/index.html' }))
 * })
 * ```
 */
export function staleWhileRevalidate(
  event: FetchEventLike,
  options: StaleWhileRevalidateOptions,
): Promise<Response> {
  assertOption(
    typeof event?.waitUntil === 'function' && event.request,
    'event',
    'an object with request and waitUntil',
    event,
  )
  assertOption(options && typeof options === 'object', 'options', 'an object', options)
  const {
    cacheName,
    maxEntries,
    maxAgeSeconds,
    fallback,
    staleIfError = 0,
    cacheable = isCacheable,
    onError = console.warn,
    onRevalidated,
  } = options
  assertOption(cacheName && typeof cacheName === 'string', 'cacheName', 'a non-empty string', cacheName)
  // Optional options: undefined, or what `ok` accepts.
  const check = (
    name: keyof StaleWhileRevalidateOptions,
    ok: (value: never) => unknown,
    expected: string,
    Kind = RangeError,
  ) =>
    assertOption(
      options[name] === undefined || ok(options[name] as never),
      name,
      expected,
      options[name],
      Kind,
    )
  check('maxEntries', (value: number) => Number.isInteger(value) && value > 0, 'a positive integer')
  check('maxAgeSeconds', (value: number) => typeof value === 'number' && value > 0, 'a positive number')
  check('staleIfError', (value: number) => typeof value === 'number' && value >= 0, 'a number >= 0')
  check('fallback', (value: string) => value && typeof value === 'string', 'a non-empty string', TypeError)
  for (const name of ['cacheable', 'onError', 'onRevalidated'] as const)
    check(name, (value) => typeof value === 'function', 'a function', TypeError)

  const { request } = event
  const limits = { maxEntries, maxAgeSeconds, keep: fallback && new URL(fallback, request.url).href }
  const report = (code: SwCacheErrorCode, what: string, cause: unknown) =>
    onError(failure(code, request, cacheName, what, cause))
  const background: Promise<unknown>[] = []
  let cache: Cache

  // Shares the flight `id` names, or starts it; its background work joins this event's.
  const flight = (id: string): Flight => {
    const key = `${cacheName} ${id}`
    let running = flights.get(key)
    if (!running) {
      // no-cache: a revalidation must reach the origin (with a conditional request), not be
      // answered by the HTTP cache, or changes would be missed. No signal: the request is shared,
      // so the page that started it going away must not abort it for the others.
      const response = fetch(request, { cache: 'no-cache', signal: null })
      const done = response
        .then(async (fresh) => {
          if (!cacheable(fresh, request)) return
          const old = onRevalidated && (await cache.match(request))
          const put = () => cache.put(request, stamp(fresh.clone()))
          await put().catch(async (cause) => {
            if (cause?.name !== 'QuotaExceededError') throw cause
            report(
              'quota-exceeded',
              'quota exceeded; purged the oldest half and retried. Lower maxEntries.',
              cause,
            )
            await trim(cache, limits, true)
            await put()
          })
          if (maxEntries || maxAgeSeconds) await trim(cache, limits)
          if (old) await onRevalidated?.({ request, cacheName, old, fresh: fresh.clone() })
        })
        .catch((cause) => report('revalidation-failed', 'update failed; any cached copy stays.', cause))
        .finally(() => flights.delete(key))
      running = [request, response, done]
      flights.set(key, running)
    }
    background.push(running[2])
    return running
  }

  // Flights are per URL until a response tells which variant a request selects (Vary), and per
  // redirect mode: a navigation must not get a followed redirect, a fetch() not an opaque one.
  const id = (response: Response, of = request) => `${of.url} ${of.redirect} ${variant(response, of)}`

  const respond = async (): Promise<Response> => {
    cache = await caches.open(cacheName)
    let cached = await cache.match(request)
    if (cached && isExpired(cached, maxAgeSeconds)) cached = undefined
    const state = cached && freshness(cached, staleIfError)
    if (state === 'fresh') return cached as Response
    const [from, answer] = flight(cached ? id(cached) : request.url)
    if (state === 'stale') return cached as Response
    try {
      let response = await answer
      // Not this request's answer: requests like this one share a flight of their own.
      if (id(response, from) !== id(response)) response = await flight(id(response))[1]
      if (state !== 'stale-if-error' || response.status < 500) return response.clone()
    } catch (cause) {
      if (state === 'stale-if-error') return cached as Response
      const page = request.mode === 'navigate' && limits.keep && (await caches.match(limits.keep))
      if (page) return page
      throw cause
    }
    return cached as Response
  }

  // The Cache API stores neither non-GET responses nor partial ones: those go to the network as is.
  const answer = (
    request.method !== 'GET' || request.headers.has('range') ? fetch(request) : respond()
  ).catch((cause) => {
    report(
      'network-and-cache-failed',
      'not cached and the network failed. Precache it or set fallback.',
      cause,
    )
    // A network error for the page. Rejecting instead would make Chromium report an unhandled
    // rejection from respondWith() (its internal handler rethrows).
    return Response.error()
  })
  event.waitUntil(answer.then(() => Promise.all(background)))
  return answer
}
