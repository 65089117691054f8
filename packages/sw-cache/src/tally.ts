/** What `countRequests` counts, per cache, in the order of {@link COUNTERS}'s indexes. */
export const COUNTERS = ['hits', 'misses', 'revalidations', 'coalesced', 'fallbacks', 'errors'] as const
export type CounterName = (typeof COUNTERS)[number]

// Indexes into COUNTERS: numbers cost the strategy fewer bytes than the names.
export const HITS = 0
export const MISSES = 1
export const REVALIDATIONS = 2
export const COALESCED = 3
export const FALLBACKS = 4
export const ERRORS = 5

/**
 * Where the strategy reports what it did; set only by `countRequests`, so a worker that does not
 * import counters pays for the optional calls and nothing else.
 */
export let tally: ((cacheName: string, counter: number) => void) | undefined

export const setTally = (count: typeof tally): void => {
  tally = count
}
