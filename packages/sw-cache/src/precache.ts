import { stamp } from './cache.js'
import { checkPrecache } from './development.js'
import { failure } from './errors.js'

/**
 * Downloads `urls` (bypassing the HTTP cache) and stores them in `cacheName`. Rejects with a
 * `precache-failed` {@link SwCacheError} naming the URL when any of them fails or answers non-2xx,
 * and then stores nothing: passed to `installEvent.waitUntil`, it fails the install so a broken
 * release never activates. Precached entries are stamped as such: `maxEntries`/`maxAgeSeconds` never
 * evict them, and `deleteOldCaches` recognises the cache as ours.
 *
 * @example
 * ```ts
 * addEventListener('install', (e) => e.waitUntil(precache('taurobot-v2', ['/', '/index.html', '/manifest.json'])))
 * ```
 */
export function precache(cacheName: string, urls: readonly (string | Request)[]): Promise<void> {
  checkPrecache(cacheName, urls)
  return Promise.all(
    urls.map(async (url) => {
      const request = new Request(url, { cache: 'reload' })
      let cause: unknown
      const response = await fetch(request).catch((error) => {
        cause = error
      })
      if (response?.ok) return [request, response] as const
      const status = response?.status
      const error = failure('precache-failed', request, cacheName, cause, status)
      error.details.status = status
      throw error
    }),
  ).then(async (responses) => {
    const cache = await caches.open(cacheName)
    await Promise.all(responses.map(([request, response]) => cache.put(request, stamp(response, 0))))
  })
}
