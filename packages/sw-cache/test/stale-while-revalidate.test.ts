import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { STORED_AT } from '../src/expiration.js'
import { isCacheable, isSwCacheError, type SwCacheError, staleWhileRevalidate } from '../src/index.js'
import { installCaches, type MemoryCacheStorage } from './memory-cache-storage.js'
import { fetchEvent, navigation, type Origin, startOrigin } from './origin.js'

let origin: Origin
let storage: MemoryCacheStorage
let errors: SwCacheError[]
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeEach(async () => {
  origin = await startOrigin()
  storage = installCaches()
  errors = []
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled)
  expect(unhandled).toEqual([])
  await origin.close()
})

const options = (extra: Partial<Parameters<typeof staleWhileRevalidate>[1]> = {}) => ({
  cacheName: 'runtime',
  onError: (error: SwCacheError) => errors.push(error),
  ...extra,
})

/** Runs the strategy for `request` and waits for its background work. */
async function serve(request: Request | string, extra = {}) {
  const event = fetchEvent(request)
  const response = await staleWhileRevalidate(event, options(extra))
  const body = await response.text()
  await event.settled()
  return { response, body }
}

/** Puts a stamped copy into the cache as if it had been stored `ageSeconds` ago. */
async function seed(path: string, body: string, headers: Record<string, string> = {}, ageSeconds = 0) {
  const cache = await storage.open('runtime')
  await cache.put(
    origin.url(path),
    new Response(body, { headers: { ...headers, [STORED_AT]: String(Date.now() - ageSeconds * 1000) } }),
  )
}

const stored = async (path: string) => (await storage.open('runtime')).match(origin.url(path))

describe('staleWhileRevalidate: hit, miss, revalidate', () => {
  it('fetches and stores a stamped copy on a miss, then answers from the cache and refreshes it', async () => {
    origin.routes.set('/a', { body: 'v1' })
    const miss = await serve(origin.url('/a'))
    expect(miss.body).toBe('v1')
    expect(origin.hits('/a')).toBe(1)
    expect(Number((await stored('/a'))?.headers.get(STORED_AT))).toBeGreaterThan(0)

    origin.routes.set('/a', { body: 'v2' })
    const hit = await serve(origin.url('/a'))
    expect(hit.body).toBe('v1')
    expect(origin.hits('/a')).toBe(2)
    expect(await (await stored('/a'))?.text()).toBe('v2')

    expect((await serve(origin.url('/a'))).body).toBe('v2')
    expect(errors).toEqual([])
  })

  it('keeps the revalidation under waitUntil and sends it past the HTTP cache', async () => {
    origin.routes.set('/a', { body: 'v1' })
    await seed('/a', 'v0')
    const event = fetchEvent(origin.url('/a'))
    const response = await staleWhileRevalidate(event, options())
    expect(await response.text()).toBe('v0')
    expect(event.pending).toHaveLength(1)
    await event.settled()
    expect(await (await stored('/a'))?.text()).toBe('v1')
    // cache: 'no-cache' becomes a Cache-Control: max-age=0 request header (Fetch standard).
    expect(origin.requests[0]?.headers['cache-control']).toBe('max-age=0')
  })

  it('sends one origin request for 20 concurrent hits', async () => {
    origin.routes.set('/hot', { body: 'new', delayMs: 100 })
    await seed('/hot', 'old')
    const events = Array.from({ length: 20 }, () => fetchEvent(origin.url('/hot')))
    const bodies = await Promise.all(
      events.map(async (event) => (await staleWhileRevalidate(event, options())).text()),
    )
    await Promise.all(events.map((event) => event.settled()))
    expect(bodies).toEqual(Array(20).fill('old'))
    expect(origin.hits('/hot')).toBe(1)
    expect(await (await stored('/hot'))?.text()).toBe('new')
  })

  it('sends one origin request for 20 concurrent misses, each answered with its own response', async () => {
    origin.routes.set('/cold', { body: 'x'.repeat(100_000), delayMs: 100 })
    const events = Array.from({ length: 20 }, () => fetchEvent(origin.url('/cold')))
    const responses = await Promise.all(events.map((event) => staleWhileRevalidate(event, options())))
    expect(new Set(responses).size).toBe(20)
    const bodies = await Promise.all(responses.map((response) => response.text()))
    await Promise.all(events.map((event) => event.settled()))
    expect(bodies.every((body) => body.length === 100_000)).toBe(true)
    expect(origin.hits('/cold')).toBe(1)
    expect((await storage.open('runtime')).entries).toHaveLength(1)
  })

  it('does not let the first requester abort the request it shares with the others', async () => {
    origin.routes.set('/shared', { body: 'for everyone', delayMs: 100 })
    const controller = new AbortController()
    const first = fetchEvent(new Request(origin.url('/shared'), { signal: controller.signal }))
    const second = fetchEvent(origin.url('/shared'))
    const answers = [staleWhileRevalidate(first, options()), staleWhileRevalidate(second, options())]
    controller.abort()
    expect(await (await answers[1])?.text()).toBe('for everyone')
    await Promise.all([first.settled(), second.settled()])
    expect(origin.hits('/shared')).toBe(1)
    expect(await (await stored('/shared'))?.text()).toBe('for everyone')
  })

  it('reports a failed revalidation and still answers from the cache, without an unhandled rejection', async () => {
    origin.routes.set('/a', { fail: true })
    await seed('/a', 'cached')
    expect((await serve(origin.url('/a'))).body).toBe('cached')
    expect(errors.map((error) => error.code)).toEqual(['revalidation-failed'])
    expect(errors[0]?.details).toEqual({ url: origin.url('/a'), cacheName: 'runtime' })
    expect(errors[0]?.cause).toBeInstanceOf(TypeError)
  })

  it('reports one typed error and answers a network error when the cache misses and the network fails', async () => {
    origin.routes.set('/api', { fail: true })
    const { response } = await serve(origin.url('/api'))
    expect(response.type).toBe('error')
    const failed = errors.find((error) => error.code === 'network-and-cache-failed')
    const revalidation = errors.find((error) => error.code === 'revalidation-failed')
    expect(errors).toHaveLength(2)
    expect(failed?.message).toContain(origin.url('/api'))
    expect(failed?.cause).toBe(revalidation?.cause)
  })

  it('reports a broken Cache API as a typed error and answers a network error', async () => {
    Object.defineProperty(globalThis, 'caches', {
      value: { open: () => Promise.reject(new DOMException('denied', 'SecurityError')) },
    })
    const { response } = await serve(origin.url('/any'))
    expect(response.type).toBe('error')
    expect(errors.map((error) => [error.code, (error.cause as DOMException).name])).toEqual([
      ['network-and-cache-failed', 'SecurityError'],
    ])
  })

  it('falls back to the precached page for navigations only', async () => {
    origin.routes.set('/offline-page', { fail: true })
    origin.routes.set('/api', { fail: true })
    await (await storage.open('runtime')).put(origin.url('/index.html'), new Response('<shell>'))
    const page = await serve(navigation(origin.url('/offline-page')), { fallback: '/index.html' })
    expect(page.body).toBe('<shell>')
    const api = await serve(origin.url('/api'), { fallback: '/index.html' })
    expect(api.response.type).toBe('error')
  })

  it('reports a failing onRevalidated hook like any background failure', async () => {
    origin.routes.set('/hooked', { body: 'new' })
    await seed('/hooked', 'old')
    const hook = () => Promise.reject(new Error('hook broke'))
    expect((await serve(origin.url('/hooked'), { onRevalidated: hook })).body).toBe('old')
    expect(errors.map((error) => [error.code, (error.cause as Error).message])).toEqual([
      ['revalidation-failed', 'hook broke'],
    ])
    expect(await (await stored('/hooked'))?.text()).toBe('new')
  })

  it('answers and caches a navigation from its preload response instead of a request of its own', async () => {
    origin.routes.set('/preloaded', { body: 'from the network' })
    const preloaded = async (preloadResponse: Promise<Response | undefined>) => {
      const event = { ...fetchEvent(navigation(origin.url('/preloaded'))), preloadResponse }
      const body = await (await staleWhileRevalidate(event, options())).text()
      await event.settled()
      return body
    }
    expect(await preloaded(Promise.resolve(new Response('preloaded')))).toBe('preloaded')
    expect(await (await stored('/preloaded'))?.text()).toBe('preloaded')
    // The hit's revalidation uses the preload too.
    expect(await preloaded(Promise.resolve(new Response('preloaded again')))).toBe('preloaded')
    expect(await (await stored('/preloaded'))?.text()).toBe('preloaded again')
    expect(origin.hits('/preloaded')).toBe(0)
    // Without a preload (disabled, or not a navigation) the strategy sends its own request.
    expect(await preloaded(Promise.resolve(undefined))).toBe('preloaded again')
    expect(origin.hits('/preloaded')).toBe(1)
    expect(errors).toEqual([])
  })

  it('answers an origin error without storing it', async () => {
    origin.routes.set('/broken', { status: 500, body: 'oops' })
    const { response, body } = await serve(origin.url('/broken'))
    expect([response.status, body]).toEqual([500, 'oops'])
    expect(await stored('/broken')).toBeUndefined()
  })
})

describe('staleWhileRevalidate: freshness (RFC 9111 max-age, RFC 5861)', () => {
  it('serves a copy fresh under its max-age without any network request', async () => {
    origin.routes.set('/f', { body: 'new' })
    await seed('/f', 'cached', { 'cache-control': 'max-age=60' }, 10)
    expect((await serve(origin.url('/f'))).body).toBe('cached')
    expect(origin.hits('/f')).toBe(0)
  })

  it('counts the Age header into the age of the copy', async () => {
    origin.routes.set('/f', { body: 'new' })
    await seed('/f', 'cached', { 'cache-control': 'max-age=60', age: '55' }, 10)
    expect((await serve(origin.url('/f'))).body).toBe('cached')
    expect(origin.hits('/f')).toBe(1)
  })

  it('serves and revalidates inside the stale-while-revalidate window', async () => {
    origin.routes.set('/f', { body: 'new' })
    await seed('/f', 'cached', { 'cache-control': 'max-age=60, stale-while-revalidate=60' }, 90)
    expect((await serve(origin.url('/f'))).body).toBe('cached')
    expect(origin.hits('/f')).toBe(1)
    expect(await (await stored('/f'))?.text()).toBe('new')
  })

  it('waits for the network past the stale-while-revalidate window', async () => {
    origin.routes.set('/f', { body: 'new' })
    await seed('/f', 'cached', { 'cache-control': 'max-age=60, stale-while-revalidate=60' }, 150)
    expect((await serve(origin.url('/f'))).body).toBe('new')
  })

  // Both stale-if-error windows count from the end of max-age: at 150 s the copy is 90 s stale.
  it('past the window, a failure is an error unless stale-if-error allows the stale copy', async () => {
    const cc = { 'cache-control': 'max-age=60, stale-while-revalidate=60' }
    origin.routes.set('/f', { status: 503, body: 'down' })
    await seed('/f', 'cached', cc, 150)
    expect((await serve(origin.url('/f'))).body).toBe('down')
    expect((await serve(origin.url('/f'), { staleIfError: 100 })).body).toBe('cached')
    origin.routes.set('/f', { fail: true })
    expect((await serve(origin.url('/f'), { staleIfError: 100 })).body).toBe('cached')
    await seed('/f', 'cached', { 'cache-control': `${cc['cache-control']}, stale-if-error=100` }, 150)
    expect((await serve(origin.url('/f'))).body).toBe('cached')
    await seed('/f', 'cached', { 'cache-control': `${cc['cache-control']}, stale-if-error=80` }, 150)
    expect((await serve(origin.url('/f'))).response.type).toBe('error')
    expect(errors.at(-1)?.code).toBe('network-and-cache-failed')
    // The copy was there, too old: the message does not say it was not cached.
    expect(errors.at(-1)?.message).toBe(
      `[@taurobot/sw-cache] ${origin.url('/f')} in "runtime": not cached, or too old, and the network failed. Precache it, set fallback or staleIfError.`,
    )
  })

  it('is plain stale-while-revalidate without such headers, however old the copy', async () => {
    origin.routes.set('/f', { body: 'new' })
    await seed('/f', 'cached', {}, 10 * 365 * 86400)
    expect((await serve(origin.url('/f'))).body).toBe('cached')
    expect(origin.hits('/f')).toBe(1)
  })
})

describe('staleWhileRevalidate: what gets cached', () => {
  it.each([
    ['404', { status: 404 }],
    ['206', { status: 206 }],
    ['no-store', { headers: { 'cache-control': 'private, no-store' } }],
    ['Vary: *', { headers: { vary: '*' } }],
  ])('never stores a %s response', async (_name, route) => {
    origin.routes.set('/x', { body: 'body', ...route })
    await serve(origin.url('/x'))
    expect(await stored('/x')).toBeUndefined()
  })

  it('by default stores only 200s that are not cross-origin', () => {
    const cors = new Response('body')
    Object.defineProperty(cors, 'type', { value: 'cors' })
    expect(isCacheable(cors)).toBe(false)
    expect(isCacheable(new Response('body', { status: 201 }))).toBe(false)
    expect(isCacheable(new Response('body'))).toBe(true)
  })

  it('stores what a custom cacheable rule accepts', async () => {
    origin.routes.set('/created', { status: 201, body: 'made' })
    await serve(origin.url('/created'), { cacheable: (response: Response) => response.ok })
    expect(await (await stored('/created'))?.text()).toBe('made')
  })

  it('passes Range and non-GET requests through to the network', async () => {
    origin.routes.set('/video', (request) => ({ status: 206, body: `range ${request.headers.range}` }))
    const range = fetchEvent(new Request(origin.url('/video'), { headers: { range: 'bytes=0-1' } }))
    expect(await (await staleWhileRevalidate(range, options())).text()).toBe('range bytes=0-1')
    origin.routes.set('/post', { body: 'posted' })
    const post = fetchEvent(new Request(origin.url('/post'), { method: 'POST', body: 'x' }))
    expect(await (await staleWhileRevalidate(post, options())).text()).toBe('posted')
    expect((await storage.open('runtime')).entries).toHaveLength(0)
    expect(origin.hits('/video') + origin.hits('/post')).toBe(2)
  })

  it('answers a network error, not a rejection, when a passed-through request fails', async () => {
    origin.routes.set('/upload', { fail: true })
    const post = await serve(new Request(origin.url('/upload'), { method: 'POST', body: 'x' }))
    expect(post.response.type).toBe('error')
    expect(errors.map((error) => error.code)).toEqual(['network-and-cache-failed'])
  })

  it('respects Vary in match, put and shared requests', async () => {
    origin.routes.set('/neg', (request) => ({
      headers: { vary: 'Accept' },
      body: `as ${request.headers.accept}`,
      delayMs: 50,
    }))
    const json = () => new Request(origin.url('/neg'), { headers: { accept: 'application/json' } })
    const html = () => new Request(origin.url('/neg'), { headers: { accept: 'text/html' } })
    // Ten concurrent misses of two variants: one origin request per variant, both stored.
    const bodies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => serve(i % 2 ? html() : json()).then((answer) => answer.body)),
    )
    expect(bodies).toEqual(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? 'as text/html' : 'as application/json')),
    )
    expect(origin.hits('/neg')).toBe(2)
    expect((await storage.open('runtime')).entries).toHaveLength(2)
    // Concurrent hits of two variants revalidate each variant once.
    await Promise.all(Array.from({ length: 6 }, (_, i) => serve(i % 2 ? html() : json())))
    expect(origin.hits('/neg')).toBe(4)
    origin.routes.set('/neg', { body: 'down', fail: true })
    expect((await serve(json())).body).toBe('as application/json')
    expect((await serve(html())).body).toBe('as text/html')
  })
})

describe('staleWhileRevalidate: bounded cache', () => {
  it('keeps at most maxEntries, deleting the oldest written, never precached entries or the fallback', async () => {
    const cache = await storage.open('runtime')
    await cache.put(origin.url('/index.html'), new Response('<shell>'))
    for (const path of ['/1', '/2', '/3', '/4', '/5']) origin.routes.set(path, { body: path })
    for (const path of ['/1', '/2', '/3', '/4', '/5']) await serve(origin.url(path), { maxEntries: 3 })
    expect((await cache.keys()).map((request) => new URL(request.url).pathname)).toEqual([
      '/index.html',
      '/4',
      '/5',
    ])
    await serve(origin.url('/index.html'), { maxEntries: 2, fallback: '/index.html' })
    origin.routes.set('/6', { body: '/6' })
    await serve(origin.url('/6'), { maxEntries: 2, fallback: '/index.html' })
    expect((await cache.keys()).map((request) => new URL(request.url).pathname)).toEqual([
      '/index.html',
      '/6',
    ])
  })

  it('neither serves nor keeps entries older than maxAgeSeconds', async () => {
    origin.routes.set('/old', { body: 'new' })
    await seed('/stale', 'stale', {}, 120)
    await seed('/old', 'old', {}, 120)
    expect((await serve(origin.url('/old'), { maxAgeSeconds: 60 })).body).toBe('new')
    // The write that followed swept the other expired entry too.
    expect(await stored('/stale')).toBeUndefined()
    expect(await (await stored('/old'))?.text()).toBe('new')
  })

  it('on QuotaExceededError purges the oldest entries, retries and reports it', async () => {
    for (const path of ['/1', '/2', '/3', '/4']) await seed(path, path)
    origin.routes.set('/big', { body: 'big' })
    const cache = await storage.open('runtime')
    cache.quotaFailures = 1
    expect((await serve(origin.url('/big'))).body).toBe('big')
    expect(errors.map((error) => error.code)).toEqual(['quota-exceeded'])
    expect(isSwCacheError(errors[0]) && (errors[0].cause as DOMException).name).toBe('QuotaExceededError')
    expect((await cache.keys()).map((request) => new URL(request.url).pathname)).toEqual(['/3', '/4', '/big'])
  })

  it('reports a second quota failure too, and the page still gets its response', async () => {
    origin.routes.set('/big', { body: 'big' })
    ;(await storage.open('runtime')).quotaFailures = 2
    expect((await serve(origin.url('/big'))).body).toBe('big')
    expect(errors.map((error) => error.code)).toEqual(['quota-exceeded', 'revalidation-failed'])
    expect(await stored('/big')).toBeUndefined()
  })
})

describe('staleWhileRevalidate: options are checked up front', () => {
  const event = () => fetchEvent('http://127.0.0.1/x')
  it.each([
    [{ cacheName: '' }, TypeError, 'cacheName must be a non-empty string, got ""'],
    [{ cacheName: 7 }, TypeError, 'cacheName must be a non-empty string, got 7'],
    [{ cacheName: 'c', maxEntries: 0 }, RangeError, 'maxEntries must be a positive integer, got 0'],
    [{ cacheName: 'c', maxEntries: 1.5 }, RangeError, 'maxEntries must be a positive integer, got 1.5'],
    [{ cacheName: 'c', maxAgeSeconds: -1 }, RangeError, 'maxAgeSeconds must be a positive number, got -1'],
    // A number out of range is a RangeError, a value of another type a TypeError.
    [{ cacheName: 'c', maxEntries: '10' }, TypeError, 'maxEntries must be a positive integer, got "10"'],
    [{ cacheName: 'c', maxAgeSeconds: '9' }, TypeError, 'maxAgeSeconds must be a positive number, got "9"'],
    [{ cacheName: 'c', staleIfError: true }, TypeError, 'staleIfError must be a number >= 0, got true'],
    [{ cacheName: 'c', staleIfError: Number.NaN }, RangeError, 'staleIfError must be a number >= 0, got NaN'],
    [{ cacheName: 'c', fallback: '' }, TypeError, 'fallback must be a non-empty string, got ""'],
    [{ cacheName: 'c', onError: 'log' }, TypeError, 'onError must be a function, got "log"'],
    [{ cacheName: 'c', cacheable: true }, TypeError, 'cacheable must be a function, got true'],
    [
      { cacheName: 'c', onRevalidated: {} },
      TypeError,
      'onRevalidated must be a function, got [object Object]',
    ],
    [
      { cacheName: Object.create(null) },
      TypeError,
      'cacheName must be a non-empty string, got [object Object]',
    ],
    [{ cacheName: ['app'] }, TypeError, 'cacheName must be a non-empty string, got an array'],
    [null, TypeError, 'options must be an object, got null'],
    [
      { cacheName: 'a', maxEntry: 10 },
      TypeError,
      'unknown option "maxEntry" of staleWhileRevalidate(): did you mean maxEntries?',
    ],
    [
      { cacheName: 'a', maxAgeSecond: 10 },
      TypeError,
      'unknown option "maxAgeSecond" of staleWhileRevalidate(): did you mean maxAgeSeconds?',
    ],
    [
      { cacheName: 'a', onerror: () => {} },
      TypeError,
      'unknown option "onerror" of staleWhileRevalidate(): did you mean onError?',
    ],
    [
      { cacheName: 'a', networkTimeoutSeconds: 3 },
      TypeError,
      'unknown option "networkTimeoutSeconds" of staleWhileRevalidate(): known options: cacheName, maxEntries',
    ],
    [
      { cacheName: 'c', fallback: 'index.html' },
      RangeError,
      'fallback must be a path starting with "/" or a full URL, as the page was precached (e.g. "/index.html"), got "index.html"',
    ],
  ])('rejects %o', (bad, Kind, message) => {
    const call = () => staleWhileRevalidate(event(), bad as never)
    expect(call).toThrow(Kind)
    expect(call).toThrow(message)
  })

  it('accepts a fallback given as a path from the root or as a full URL', () => {
    for (const fallback of ['/index.html', 'https://app.example/offline.html']) {
      expect(() =>
        staleWhileRevalidate(event(), { cacheName: 'c', fallback, onError: () => {} }),
      ).not.toThrow()
    }
  })

  it('rejects an event without request or waitUntil', () => {
    expect(() => staleWhileRevalidate({} as never, { cacheName: 'c' })).toThrow(TypeError)
    expect(() => staleWhileRevalidate({} as never, { cacheName: 'c' })).toThrow(/^event must be/)
  })
})
