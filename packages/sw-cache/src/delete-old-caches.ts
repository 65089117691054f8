import { checkDeleteOldCaches } from './development.js'
import { STORED_AT } from './expiration.js'

/** Options of {@link deleteOldCaches}. */
export interface DeleteOldCachesOptions {
  /** Names of the caches the current version uses; they are never deleted. */
  keep: readonly string[]
  /**
   * Also treat every cache whose name starts with this as ours, e.g. caches created by a service
   * worker written before this library was adopted.
   * @default only caches written by this library
   */
  prefix?: string
}

/**
 * Deletes every cache of ours that is not in `keep`, and nothing else. "Ours" means written by
 * this library: every copy `precache` and `staleWhileRevalidate` store carries a
 * `sw-cache-stored-at` header, and a cache whose oldest entry has it is ours (an empty cache is
 * nobody's and stays). With `prefix`, caches named with that prefix are ours too. Resolves with the
 * deleted names.
 *
 * @example
 * ```ts
 * addEventListener('activate', (e) => e.waitUntil(deleteOldCaches({ keep: ['taurobot-v2'] })))
 * ```
 */
export function deleteOldCaches(options: DeleteOldCachesOptions): Promise<string[]> {
  // Not async itself: in development builds bad options throw at the call.
  checkDeleteOldCaches(options)
  return (async ({ keep, prefix }: DeleteOldCachesOptions) => {
    const deleted: string[] = []
    for (const name of await caches.keys())
      if (!keep.includes(name)) {
        const cache = await caches.open(name)
        // Every copy this library stores carries STORED_AT, so looking at the oldest entry suffices.
        const [oldest] = await cache.keys()
        const ours =
          (prefix && name.startsWith(prefix)) ||
          (oldest && (await cache.match(oldest))?.headers.has(STORED_AT))
        if (ours && (await caches.delete(name))) deleted.push(name)
      }
    return deleted
  })(options)
}
