import { stamp } from './cache.js'
import { checkPrecache } from './development.js'
import { failure } from './errors.js'
import { STORED_AT } from './expiration.js'

/**
 * One entry of a precache manifest, in the format Workbox, Serwist and vite-plugin-pwa generate
 * (`self.__WB_MANIFEST`) and `sw-cache-manifest` writes.
 */
export interface PrecacheEntry {
  /** URL of the file, relative to the service worker's URL or absolute. */
  url: string
  /**
   * Changes whenever the file's content changes (a content hash). Leave it out, or `null`, when
   * the URL itself changes with the content (`/assets/app.3f9a1c.js`).
   * @default the URL is the revision
   */
  revision?: string | null
  /**
   * Subresource Integrity metadata (`sha256-…`) the download must match, or the install fails.
   * @default not checked
   */
  integrity?: string | null
}

/**
 * Downloads `entries` (bypassing the HTTP cache) and stores them in `cacheName`. Plain URLs and
 * `Request`s are always downloaded. A manifest entry whose revision (and integrity) is the same as
 * a copy precached by an earlier release, in any cache, is copied from there instead, so a release
 * downloads only what changed; give each release its own `cacheName` and let `deleteOldCaches`
 * remove the previous one on activate.
 *
 * Rejects with a `precache-failed` {@link SwCacheError} naming the URL when any download fails,
 * answers non-2xx or does not match its `integrity`, and then stores nothing: passed to
 * `installEvent.waitUntil`, it fails the install so a broken release never activates. Precached
 * entries are stamped as such: `maxEntries`/`maxAgeSeconds` never evict them, and
 * `deleteOldCaches` recognises the cache as ours.
 *
 * @example
 * ```ts
 * addEventListener('install', (e) =>
 *   e.waitUntil(precache('app-v2', ['/', { url: '/app.js', revision: '3f9a1c' }, { url: '/app.3f9a1c.css' }])),
 * )
 * ```
 */
export function precache(
  cacheName: string,
  entries: readonly (string | Request | PrecacheEntry)[],
): Promise<void> {
  checkPrecache(cacheName, entries)
  return Promise.all(
    // Typed as manifest entries for the reads below: they happen only when `manifest` holds.
    (entries as readonly PrecacheEntry[]).map(async (entry) => {
      // A URL string has no `url`; a Request has one but is no manifest entry.
      const manifest = entry.url && !(entry instanceof Request)
      const integrity = (manifest && entry.integrity) || undefined
      const request = new Request(manifest ? entry.url : (entry as unknown as string | Request), {
        cache: 'reload',
        integrity,
      })
      // Both parts of the identity, in one header value that is never empty: "rev," or ",sha…".
      const key = manifest && String([entry.revision, integrity])
      if (key)
        for (const name of await caches.keys()) {
          const old = await (await caches.open(name)).match(request)
          if (old?.headers.get(STORED_AT) === key) return [request, stamp(old, key)] as const
        }
      // A network error or an integrity mismatch rejects: the error then stands in for the response
      // (it has neither `ok` nor `status`) and becomes the cause.
      const response: Response | undefined = await fetch(request).catch((error) => error)
      if (response?.ok) return [request, stamp(response, key || 0)] as const
      const status = response?.status
      throw failure('precache-failed', request, cacheName, status ? undefined : response, {
        status,
        integrity,
      })
    }),
  ).then(async (copies) => {
    const cache = await caches.open(cacheName)
    await Promise.all(copies.map((copy) => cache.put(...copy)))
  })
}
