// The options of the strategy and the shapes it hands to callers, on their own so that the
// strategy, its development checks and the update notices can all name them without importing
// one another.
import type { SwCacheError } from './errors.js'

/** What the strategy needs from a fetch event: a `FetchEvent`, or anything shaped like one. */
export interface FetchEventLike {
  /** The request to answer. */
  readonly request: Request
  /** Keeps the worker alive until the background revalidation settles. */
  waitUntil(promise: Promise<unknown>): void
  /**
   * The navigation preload response (`FetchEvent.preloadResponse`): when it resolves to a response,
   * the strategy uses it instead of a request of its own.
   */
  readonly preloadResponse?: Promise<Response | undefined> | undefined
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
