import { checkCachedRange } from './development.js'

/** Options of {@link cachedRange}. */
export interface CachedRangeOptions {
  /**
   * Cache that holds the full responses.
   * @default every cache, oldest first (`caches.match`)
   */
  cacheName?: string
}

/**
 * Answers a `Range` request from a cached full `200` response, so cached audio and video can be
 * played and seeked offline: one range (`bytes=0-99`, `bytes=100-`, `bytes=-100`) gets a `206` with
 * its slice and `Content-Range`; a range that starts past the end gets a `416` with
 * `Content-Range: bytes *\/<size>`. Several ranges, another unit or a malformed header get the whole
 * cached body with its `200`, which RFC 9110 allows. A request whose URL is not cached goes to the
 * network untouched; when that fails too it resolves with `Response.error()`. It never rejects.
 *
 * @example
 * ```ts
 * addEventListener('fetch', (e) => {
 *   if (e.request.headers.has('range')) e.respondWith(cachedRange(e.request))
 * })
 * ```
 */
export async function cachedRange(request: Request, options?: CachedRangeOptions): Promise<Response> {
  checkCachedRange(request, options)
  const cached = await caches.match(request, options)
  if (cached?.status !== 200) return fetch(request).catch(() => Response.error())
  const body = await cached.blob()
  const size = body.size
  // Headers strip the whitespace around values, and exec() reads a missing header as "null".
  const [, first, last] = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get('range') as string) ?? []
  // The digits compare and subtract as numbers. `bytes=-500` is a suffix: the last 500 bytes.
  const start = first ? +first : size > (last as never) ? size - (last as never) : 0
  const end = first && last && (last as never) < size ? +last : size - 1
  // Not one byte range (several, another unit, malformed, "bytes=-", last before first): the whole body.
  if (!(first || last) || (first && last && (last as never) < start)) return new Response(body, cached)
  if (start >= size)
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } })
  const headers = new Headers(cached.headers)
  headers.set('content-range', `bytes ${start}-${end}/${size}`)
  // Headers convert the number to a string themselves (Web IDL ByteString).
  headers.set('content-length', (end - start + 1) as never)
  return new Response(body.slice(start, end + 1), { status: 206, headers })
}
