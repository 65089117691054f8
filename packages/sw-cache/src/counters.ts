import { answer } from './answer.js'
import { type CounterName, setTally } from './tally.js'

/** What `readCounters()` resolves with: the counts of each cache, by cache name. */
export type Counters = Record<string, Record<CounterName, number>>

/**
 * Starts counting, per cache, what `staleWhileRevalidate` does: `hits` (answered from the cache),
 * `misses` (the network had to answer), `revalidations` (background requests for a cached copy),
 * `coalesced` (requests that joined a request already running), `fallbacks` (a stale copy or the
 * fallback page answered a failure) and `errors` (what went to `onError`). Pages read them with
 * `readCounters()` from `@taurobot/sw-cache/client`. Call it once, at the top of the worker. The
 * counts live in the worker's memory: they start at zero again when the browser stops an idle
 * worker.
 *
 * @example
 * ```ts
 * countRequests()
 * addEventListener('fetch', (e) => e.respondWith(staleWhileRevalidate(e, { cacheName: 'app-v2' })))
 * ```
 */
export function countRequests(): void {
  // Per cache, the counts in the order of COUNTERS: readCounters() names them in the page, so the
  // names cost the worker nothing.
  let counts: Record<string, number[]> = {}
  setTally((cacheName, counter) => {
    // Every counter index is within the array: it starts with one zero per counter.
    // biome-ignore lint/suspicious/noAssignInExpressions: the shortest way to create a cache's counts on first use.
    ;((counts[cacheName] ??= [0, 0, 0, 0, 0, 0])[counter] as number)++
  })
  answer('sw-cache:counters', () => counts)
  answer('sw-cache:reset', () => {
    const read = counts
    counts = {}
    return read
  })
}
