import { COUNTERS, type CounterName, setTally } from './tally.js'

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
  let counts: Counters = {}
  setTally((cacheName, counter) => {
    counts[cacheName] ??= Object.fromEntries(COUNTERS.map((name) => [name, 0])) as never
    ;(counts[cacheName] as Record<CounterName, number>)[COUNTERS[counter] as CounterName]++
  })
  addEventListener('message', (event) => {
    const { data, ports } = event as MessageEvent
    if (data === 'sw-cache:counters' || data === 'sw-cache:reset-counters') ports[0]?.postMessage(counts)
    if (data === 'sw-cache:reset-counters') counts = {}
  })
}
