import { forget, REGISTRY, registryKey, registryName } from './cache.js'
import { assertOption } from './errors.js'

/** Options of {@link deleteOldCaches}. */
export interface DeleteOldCachesOptions {
  /** Names of the caches the current version uses; they are never deleted. */
  keep: readonly string[]
  /**
   * Also treat every cache whose name starts with this as ours, e.g. caches created by a service
   * worker written before this library was adopted.
   * @default only caches opened through this library
   */
  prefix?: string
}

/**
 * Deletes every cache of ours that is not in `keep`, and nothing else. "Ours" means opened through
 * this library (`precache` or `staleWhileRevalidate` record each cache name they open in a small
 * registry cache) or, with `prefix`, named with that prefix. Resolves with the deleted names.
 *
 * @example
 * ```ts
 * addEventListener('activate', (e) => e.waitUntil(deleteOldCaches({ keep: ['taurobot-v2'] })))
 * ```
 */
export function deleteOldCaches(options: DeleteOldCachesOptions): Promise<string[]> {
  const { keep, prefix } = options ?? {}
  assertOption(
    Array.isArray(keep) && keep.every((name) => typeof name === 'string'),
    'keep',
    'an array of cache names',
    keep,
  )
  assertOption(
    prefix === undefined || (prefix && typeof prefix === 'string'),
    'prefix',
    'a non-empty string',
    prefix,
  )
  return sweep(keep, prefix)
}

async function sweep(keep: readonly string[], prefix: string | undefined): Promise<string[]> {
  const registry = await caches.open(REGISTRY)
  const ours = new Set((await registry.keys()).map(registryName))
  const deleted: string[] = []
  for (const name of await caches.keys())
    if (
      name !== REGISTRY &&
      !keep.includes(name) &&
      (ours.has(name) || (prefix && name.startsWith(prefix)))
    ) {
      if (await caches.delete(name)) deleted.push(name)
      forget(name)
    }
  // Names recorded for caches that no longer exist are dropped too.
  for (const name of ours) if (!keep.includes(name)) await registry.delete(registryKey(name))
  return deleted
}
