import { createHash } from 'node:crypto'
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

  it('downloads only the manifest entries whose revision changed, copying the rest from the old release', async () => {
    origin.routes.set('/a.js', { body: 'a1' })
    origin.routes.set('/b.js', { body: 'b1' })
    origin.routes.set('/c.1f2e.js', { body: 'c' })
    const release = (a: string) => [
      { url: origin.url('/a.js'), revision: a },
      { url: origin.url('/b.js'), revision: '1' },
      { url: origin.url('/c.1f2e.js'), revision: null },
      origin.url('/index.html'),
    ]
    await precache('app-v1', release('1'))
    origin.routes.set('/a.js', { body: 'a2' })
    origin.routes.set('/b.js', { body: 'b2, never fetched' })
    await precache('app-v2', release('2'))
    const paths = origin.requests.map((request) => request.path)
    // Plain URLs carry no revision: they are downloaded by every release.
    expect(paths.sort()).toEqual(['/a.js', '/a.js', '/b.js', '/c.1f2e.js', '/index.html', '/index.html'])
    const cache = await storage.open('app-v2')
    expect(await (await cache.match(origin.url('/a.js')))?.text()).toBe('a2')
    expect(await (await cache.match(origin.url('/b.js')))?.text()).toBe('b1')
    expect(await (await cache.match(origin.url('/c.1f2e.js')))?.text()).toBe('c')
    // A revisioned copy is stamped with its revision (and integrity), a plain URL's with 0.
    expect((await cache.match(origin.url('/b.js')))?.headers.get(STORED_AT)).toBe('1,')
    expect((await cache.match(origin.url('/c.1f2e.js')))?.headers.get(STORED_AT)).toBe(',')
    expect((await cache.match(origin.url('/index.html')))?.headers.get(STORED_AT)).toBe('0')
  })

  it('downloads again an unchanged revision whose integrity changed', async () => {
    origin.routes.set('/a.js', { body: 'a' })
    const integrity = `sha256-${createHash('sha256').update('a').digest('base64')}`
    await precache('app-v1', [{ url: origin.url('/a.js'), revision: '1' }])
    await precache('app-v2', [{ url: origin.url('/a.js'), revision: '1', integrity }])
    await precache('app-v3', [{ url: origin.url('/a.js'), revision: '1', integrity }])
    expect(origin.hits('/a.js')).toBe(2)
  })

  it('fails when a download does not match its integrity, naming the URL', async () => {
    origin.routes.set('/a.js', { body: 'tampered' })
    const integrity = `sha256-${createHash('sha256').update('a').digest('base64')}`
    const failure = (await precache('app-v1', [{ url: origin.url('/a.js'), integrity }]).catch(
      (error: unknown) => error,
    )) as SwCacheError
    expect(isSwCacheError(failure, 'precache-failed')).toBe(true)
    expect(failure.message).toContain(
      `${origin.url('/a.js')} in "app-v1": precache failed with a network error or an integrity mismatch`,
    )
    expect(failure.details).toMatchObject({ url: origin.url('/a.js'), integrity })
    expect(await storage.keys()).not.toContain('app-v1')
  })

  it('checks its arguments up front, naming the bad entry', () => {
    expect(() => precache('', [])).toThrow(new TypeError('cacheName must be a non-empty string, got ""'))
    // The manifest given as the first argument: named as an array, not printed entry by entry.
    expect(() => precache([{ url: '/a.js' }, { url: '/b.js' }] as never, [])).toThrow(
      new TypeError('cacheName must be a non-empty string, got an array'),
    )
    expect(() => precache('v1', '/index.html' as never)).toThrow(
      new TypeError('entries must be an array of URLs or manifest entries, got "/index.html"'),
    )
    const bad: [unknown, string][] = [
      ['', 'entries[1] must be a URL, a Request or { url, revision?, integrity? }, got ""'],
      [42, 'entries[1] must be a URL, a Request or { url, revision?, integrity? }, got 42'],
      [{ revision: '1' }, 'entries[1].url must be a non-empty string, got undefined'],
      [{ url: '/a.js', revision: 3 }, 'entries[1].revision must be a non-empty string or null, got 3'],
      [{ url: '/a.js', integrity: '' }, 'entries[1].integrity must be a non-empty string or null, got ""'],
      [
        { url: '/a.js', revison: '3' },
        'unknown option "revison" of precache() entries[1]: did you mean revision?',
      ],
    ]
    for (const [entry, message] of bad)
      expect(() => precache('v1', ['/', entry] as never)).toThrow(new TypeError(message))
  })

  it('refuses integrity with an algorithm browsers do not check, before any download', () => {
    for (const integrity of ['md5-abc', 'sha1-qUqP5cyxm6YcTAhz05Hph5gvu9M=', 'sha256', 'abc']) {
      expect(() => precache('v1', [{ url: '/x', integrity }])).toThrow(
        new RangeError(
          `entries[0].integrity must be Subresource Integrity metadata: "sha256-", "sha384-" or "sha512-" and the base64 digest (browsers skip other algorithms and would store the file unchecked), got "${integrity}"`,
        ),
      )
    }
  })

  it('refuses a revision a response header cannot hold as it is, before any download', () => {
    for (const revision of ['v2 – final', 'v2 🚀', 'a\nb', ' 2']) {
      expect(() => precache('v1', [{ url: '/x', revision }])).toThrow(
        new RangeError(
          `entries[0].revision must be printable Latin-1 characters, not starting with a space (it is stored in a response header), got ${JSON.stringify(revision)}`,
        ),
      )
    }
    expect(() => precache('v1', [{ url: '/x', revision: 'v2 final, café ' }]).catch(() => {})).not.toThrow()
  })

  it('accepts SRI metadata of sha256, sha384 and sha512', async () => {
    origin.routes.set('/a.js', { body: 'a' })
    const sha = (bits: number) => `sha${bits}-${createHash(`sha${bits}`).update('a').digest('base64')}`
    for (const integrity of [sha(256), sha(384), sha(512)]) {
      await precache('app-v1', [{ url: origin.url('/a.js'), integrity }])
    }
    expect(await (await storage.open('app-v1')).match(origin.url('/a.js'))).toBeDefined()
  })
})
