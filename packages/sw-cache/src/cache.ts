import { STORED_AT } from './expiration.js'

/**
 * The default cacheability rule: a `200` of our own origin (in browsers `basic`; constructed
 * responses elsewhere are `default`), never `cors`/`opaque` ones, never `no-store`, never
 * `Vary: *` (the Cache API refuses those).
 */
export function isCacheable(response: Response): boolean {
  // test() reads a missing header as "null", which matches neither.
  return (
    response.status === 200 &&
    response.type !== 'cors' &&
    !/no-store/i.test(response.headers.get('cache-control') as string) &&
    !/\*/.test(response.headers.get('vary') as string)
  )
}

/**
 * Which variant of its URL `request` selects, per the headers `response`'s `Vary` names;
 * `Vary: *` makes every request a variant of its own. Without a response, undefined.
 */
export function variant(response: Response | undefined, request: Request): unknown[] | undefined {
  return response?.headers
    .get('vary')
    ?.match(/[^\s,]+/g)
    ?.map((name) => (name === '*' ? Math.random() : request.headers.get(name)))
}

/**
 * A copy of `response` stamped with `stored`: the storage time (for precached copies, whose age does
 * not matter, 0 or their revision, and minus the time once refreshed: see {@link STORED_AT}), which is how freshness and `maxAgeSeconds`
 * work without IndexedDB and how `deleteOldCaches` recognises our caches. The copy is unredirected,
 * so it may answer navigations.
 */
export function stamp(response: Response, stored: number | string): Response {
  const copy = new Response(response.body, response)
  // Headers convert the value to a string themselves (Web IDL ByteString).
  copy.headers.set(STORED_AT, stored as string)
  return copy
}
