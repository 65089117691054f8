import { isCacheable, stamp, variant } from './cache.js'
import { checkStrategy } from './development.js'
import { failure } from './errors.js'
import { EXPIRED, FRESH, freshness, STALE, STALE_IF_ERROR, storedAt, trim } from './expiration.js'
import type { FetchEventLike, StaleWhileRevalidateOptions } from './options.js'
import { COALESCED, ERRORS, FALLBACKS, REVALIDATIONS, tally } from './tally.js'

/**
 * One network request per cache, URL, redirect mode and variant, shared by the requests that arrive
 * while it runs: the request that started it and its response. Its background work (cache update
 * and hooks) runs under the starting event's `waitUntil`, settles and never rejects.
 */
type Flight = [request: Request, response: Promise<Response>]

// A plain object costs the bundle fewer bytes than a Map; its keys are JSON arrays, which no
// inherited property name looks like.
const flights: Record<string, Flight | undefined> = {}

/**
 * Answers a fetch event stale-while-revalidate: from the cache at once when it holds a copy, while
 * one background request per URL refreshes it under `event.waitUntil`; from the network on a miss.
 * When neither can answer and no fallback applies, it reports one `network-and-cache-failed`
 * {@link SwCacheError} to `onError` and resolves with `Response.error()`, a network error for the
 * page. It never rejects. In development builds bad options throw synchronously; production builds
 * leave the checks out.
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
  checkStrategy(event, options)
  const { cacheName, fallback, cacheable = isCacheable, onError = console.warn, onRevalidated } = options
  const { request, preloadResponse: preload } = event
  const keep = fallback && new URL(fallback, request.url).href
  // Counts (`tally`) and failures (`onError`) are written out where they happen rather than through
  // helpers: gzip stores the repeated text in fewer bytes than a closure costs every worker.
  let cache: Cache

  // Which flight answers `of`: until a response tells which variant a request selects (Vary), one
  // per URL; always one per redirect mode, as a navigation must not get a followed redirect, nor a
  // fetch() an opaque one.
  const id = (response?: Response, of = request) =>
    JSON.stringify([cacheName, of.url, of.redirect, variant(response, of)])

  // Shares the flight `key` names, or starts it: a revalidation when `stale` is a cached copy.
  const flight = (key: string, stale?: unknown): Flight => {
    let running = flights[key]
    if (running) tally?.(cacheName, COALESCED)
    else {
      if (stale) tally?.(cacheName, REVALIDATIONS)
      // no-cache: a revalidation must reach the origin (with a conditional request), not be
      // answered by the HTTP cache, or changes would be missed. No signal: the request is shared,
      // so the page that started it going away must not abort it for the others.
      // A navigation's preload response, when navigation preload is enabled, is the request the
      // browser already sent for it: it stands in for ours.
      const response = (async () => (await preload) || fetch(request, { cache: 'no-cache', signal: null }))()
      running = flights[key] = [request, response]
      // Calling waitUntil after the dispatch is allowed while the respondWith() promise is pending,
      // and flights start before the answer settles.
      event.waitUntil(
        response
          .then(async (fresh) => {
            if (!cacheable(fresh, request)) return
            const old = onRevalidated && (await cache.match(request))
            // A precached copy's refresh stays precached (see STORED_AT): expiration never deletes it.
            const at = stale && storedAt(stale as Response) < 1 ? -Date.now() : Date.now()
            await cache.put(request, stamp(fresh.clone(), at)).catch(async (cause) => {
              if (cause?.name !== 'QuotaExceededError') throw cause
              tally?.(cacheName, ERRORS)
              onError(failure('quota-exceeded', request, cacheName, cause))
              await trim(cache, options, keep, true)
              await cache.put(request, stamp(fresh.clone(), at))
            })
            if (options.maxEntries || options.maxAgeSeconds) await trim(cache, options, keep)
            if (old) await onRevalidated({ request, cacheName, old, fresh: fresh.clone() })
          })
          .catch((cause) => {
            tally?.(cacheName, ERRORS)
            onError(failure('revalidation-failed', request, cacheName, cause))
          })
          .finally(() => delete flights[key]),
      )
    }
    return running
  }

  // A preload this request does not use (a fresh hit, a flight already running) still settles
  // under waitUntil: Chromium warns about a preload cancelled before it settled.
  if (preload) event.waitUntil(preload.catch(() => {}))

  const respond = async (): Promise<Response> => {
    cache = await caches.open(cacheName)
    const cached = await cache.match(request)
    const state = cached ? freshness(cached, options) : EXPIRED
    // HITS for FRESH and STALE, MISSES otherwise.
    tally?.(cacheName, +(state > STALE))
    if (state === FRESH) return cached as Response
    const [from, answer] = flight(id(cached), cached)
    if (state === STALE) return cached as Response
    try {
      let response = await answer
      // Not this request's answer: requests like this one share a flight of their own.
      if (id(response, from) !== id(response)) response = await flight(id(response))[1]
      if (state !== STALE_IF_ERROR || response.status < 500) return response.clone()
      tally?.(cacheName, FALLBACKS)
      return cached as Response
    } catch (cause) {
      const page =
        state === STALE_IF_ERROR ? cached : request.mode === 'navigate' && keep && (await caches.match(keep))
      if (page) {
        tally?.(cacheName, FALLBACKS)
        return page
      }
      throw cause
    }
  }

  // The Cache API stores neither non-GET responses nor partial ones: those go to the network as is.
  return (request.method !== 'GET' || request.headers.has('range') ? fetch(request) : respond()).catch(
    (cause) => {
      tally?.(cacheName, ERRORS)
      onError(failure('network-and-cache-failed', request, cacheName, cause))
      // A network error for the page. Rejecting instead would make Chromium report an unhandled
      // rejection from respondWith() (its internal handler rethrows).
      return Response.error()
    },
  )
}
