import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { STORED_AT } from '../src/expiration.js'
import { isSwCacheError, precache, type SwCacheError } from '../src/index.js'
import { installCaches, type MemoryCacheStorage } from './memory-cache-storage.js'
import { type Origin, startOrigin } from './origin.js'

let origin: Origin
let storage: MemoryCacheStorage

beforeEach(async () => {
  origin = await startOrigin()
  storage = installCaches()
  origin.routes.set('/', { body: 'root' })
  origin.routes.set('/index.html', { body: '<shell>' })
})

afterEach(() => origin.close())

describe('precache', () => {
  it('stores every URL stamped as precached, downloaded past the HTTP cache', async () => {
    await precache('app-v1', [origin.url('/'), new Request(origin.url('/index.html'))])
    const cache = await storage.open('app-v1')
    expect(await (await cache.match(origin.url('/index.html')))?.text()).toBe('<shell>')
    expect((await cache.match(origin.url('/')))?.headers.get(STORED_AT)).toBe('0')
    // cache: 'reload' becomes Cache-Control: no-cache on the wire (Fetch standard).
    expect(origin.requests.map((request) => request.headers['cache-control'])).toEqual([
      'no-cache',
      'no-cache',
    ])
  })

  it('rejects naming the failing URL and stores nothing when one answers an error', async () => {
    const failure = (await precache('app-v1', [origin.url('/'), origin.url('/missing.js')]).catch(
      (error: unknown) => error,
    )) as SwCacheError
    expect(isSwCacheError(failure, 'precache-failed')).toBe(true)
    expect(failure.message).toContain(
      `${origin.url('/missing.js')} in "app-v1": precache failed with HTTP 404`,
    )
    expect(failure.details).toMatchObject({ url: origin.url('/missing.js'), status: 404 })
    expect((await storage.open('app-v1')).entries).toEqual([])
  })

  it('rejects with the network error as cause when a download fails', async () => {
    origin.routes.set('/', { fail: true })
    const failure = (await precache('app-v1', [origin.url('/')]).catch(
      (error: unknown) => error,
    )) as SwCacheError
    expect(isSwCacheError(failure, 'precache-failed')).toBe(true)
    expect(failure.message).toContain('network error')
    expect(failure.cause).toBeInstanceOf(TypeError)
  })

  it('checks its arguments up front', () => {
    expect(() => precache('', [])).toThrow(new TypeError('cacheName must be a non-empty string, got ""'))
    expect(() => precache('v1', '/index.html' as never)).toThrow(
      new TypeError('urls must be an array of URLs, got "/index.html"'),
    )
  })
})
