/**
 * A small stale-while-revalidate strategy for service workers: one network request per URL,
 * HTTP freshness, bounded caches without IndexedDB, update notices and offline fallbacks.
 *
 * @packageDocumentation
 * @module @taurobot/sw-cache
 */

export type { BroadcastUpdateOptions, UpdateMessage } from './broadcast.js'
export { broadcastUpdate, hasChanged } from './broadcast.js'
export { isCacheable } from './cache.js'
export type { Counters } from './counters.js'
export { countRequests } from './counters.js'
export type { DeleteOldCachesOptions } from './delete-old-caches.js'
export { deleteOldCaches } from './delete-old-caches.js'
export type { SwCacheErrorCode, SwCacheErrorOptions } from './errors.js'
export { isSwCacheError, SwCacheError } from './errors.js'
export type { FetchEventLike, Revalidation, StaleWhileRevalidateOptions } from './options.js'
export type { PrecacheEntry } from './precache.js'
export { precache } from './precache.js'
export type { CachedRangeOptions } from './range.js'
export { cachedRange } from './range.js'
export type { ServeUpdatesOptions } from './serve-updates.js'
export { serveUpdates } from './serve-updates.js'
export { staleWhileRevalidate } from './stale-while-revalidate.js'
export type { CounterName } from './tally.js'
