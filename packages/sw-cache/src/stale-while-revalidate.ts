import { isCacheable, sameVariant, store, variant } from './cache.js'
import { assertOption, failure, type SwCacheError } from './errors.js'
import { type Freshness, freshness, isExpired } from './expiration.js'

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

interface Settings extends StaleWhileRevalidateOptions {
  staleIfError: number
  /** Absolute URL of the fallback page. */
  keep: string | undefined
  cacheable: (response: Response, request: Request) => boolean
  onError: (error: SwCacheError) => void
}

/** One network request per cache and URL (and variant), shared by the requests that arrive while it runs. */
interface Flight {
  request: Request
  response: Promise<Response>
  /** Settles (never rejects) once the cache was updated and hooks ran. */
  done: Promise<unknown>
}

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
  const o = check(event, options)
  const { request } = event
  const background: Promise<unknown>[] = []
  let answered!: () => void
  event.waitUntil(new Promise<void>((resolve) => (answered = resolve)).then(() => Promise.all(background)))
  // The Cache API stores neither non-GET responses nor partial ones: those go to the network as is.
  const passThrough = request.method !== 'GET' || request.headers.has('range')
  return (passThrough ? fetch(request) : respond(request, o, (work) => background.push(work)))
    .catch((cause) => {
      o.onError(
        failure(
          'network-and-cache-failed',
          request,
          o.cacheName,
          'not cached and the network failed. Precache it, or set fallback for navigations.',
          cause,
        ),
      )
      // A network error for the page. Rejecting instead would make Chromium report an unhandled
      // rejection from respondWith() (its internal handler rethrows).
      return Response.error()
    })
    .finally(answered)
}

async function respond(
  request: Request,
  o: Settings,
  started: (work: Promise<unknown>) => void,
): Promise<Response> {
  const cache = await caches.open(o.cacheName)
  let cached = await cache.match(request)
  if (cached && isExpired(cached, o.maxAgeSeconds)) cached = undefined
  const state: Freshness | 'miss' = cached ? freshness(cached, o.staleIfError) : 'miss'
  if (cached && state === 'fresh') return cached
  // Flights are per URL until a response tells which variant a request selects (Vary).
  const id = (response?: Response) =>
    response ? `${request.url} ${request.redirect} ${variant(response, request)}` : request.url
  let flight = revalidate(cache, request, o, id(cached))
  started(flight.done)
  if (cached && state === 'stale') return cached
  try {
    let response = await flight.response
    if (flight.request.redirect !== request.redirect || !sameVariant(response, flight.request, request)) {
      // Not this request's answer: another variant (Vary) or redirect mode (a navigation must not
      // get a followed redirect, a fetch() must not get an opaque one). Requests like this one
      // share a flight of their own.
      flight = revalidate(cache, request, o, id(response))
      started(flight.done)
      response = await flight.response
    }
    if (!cached || state !== 'stale-if-error' || response.status < 500) return response.clone()
  } catch (cause) {
    if (cached && state === 'stale-if-error') return cached
    const page = request.mode === 'navigate' && o.keep && (await caches.match(o.keep))
    if (page) return page
    throw cause
  }
  return cached
}

function revalidate(cache: Cache, request: Request, o: Settings, id: string): Flight {
  const key = `${o.cacheName} ${id}`
  const running = flights.get(key)
  if (running) return running
  // no-cache: a revalidation must reach the origin (with a conditional request), not be answered
  // by the HTTP cache, or changes would be missed. No signal: the request is shared, so the page
  // that started it going away must not abort it for the others.
  const response = fetch(request, { cache: 'no-cache', signal: null })
  const done = response
    .then(async (fresh) => {
      if (!o.cacheable(fresh, request)) return
      const old = o.onRevalidated && (await cache.match(request))
      await store(cache, o.cacheName, request, fresh, o, o.onError)
      if (old) await o.onRevalidated?.({ request, cacheName: o.cacheName, old, fresh: fresh.clone() })
    })
    .catch((cause) =>
      o.onError(
        failure(
          'revalidation-failed',
          request,
          o.cacheName,
          'the network update failed; the cached copy, if any, stays.',
          cause,
        ),
      ),
    )
    .finally(() => flights.delete(key))
  const flight = { request, response, done }
  flights.set(key, flight)
  return flight
}

function check(event: FetchEventLike, options: StaleWhileRevalidateOptions): Settings {
  assertOption(
    typeof event?.waitUntil === 'function' && event.request,
    'event',
    'an object with request and waitUntil',
    event,
  )
  assertOption(options && typeof options === 'object', 'options', 'an object', options)
  const { cacheName, maxEntries, maxAgeSeconds, fallback, staleIfError = 0 } = options
  assertOption(cacheName && typeof cacheName === 'string', 'cacheName', 'a non-empty string', cacheName)
  assertOption(
    maxEntries === undefined || (Number.isInteger(maxEntries) && maxEntries > 0),
    'maxEntries',
    'a positive integer',
    maxEntries,
    RangeError,
  )
  assertOption(
    maxAgeSeconds === undefined || (typeof maxAgeSeconds === 'number' && maxAgeSeconds > 0),
    'maxAgeSeconds',
    'a positive number',
    maxAgeSeconds,
    RangeError,
  )
  assertOption(
    typeof staleIfError === 'number' && staleIfError >= 0,
    'staleIfError',
    'a number >= 0',
    staleIfError,
    RangeError,
  )
  assertOption(
    fallback === undefined || (fallback && typeof fallback === 'string'),
    'fallback',
    'a non-empty string',
    fallback,
  )
  for (const name of ['cacheable', 'onError', 'onRevalidated'] as const)
    assertOption(
      options[name] === undefined || typeof options[name] === 'function',
      name,
      'a function',
      options[name],
    )
  return {
    ...options,
    staleIfError,
    keep: fallback && new URL(fallback, event.request.url).href,
    cacheable: options.cacheable ?? isCacheable,
    onError: options.onError ?? console.warn,
  }
}
