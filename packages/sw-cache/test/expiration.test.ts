import { describe, expect, it } from 'vitest'
import {
  EXPIRED,
  FRESH,
  freshness,
  isExpired,
  STALE,
  STALE_IF_ERROR,
  STORED_AT,
  trim,
} from '../src/expiration.js'
import { MemoryCache } from './memory-cache-storage.js'

// Ages are whole seconds apart and the functions read the clock themselves: the few milliseconds a
// test takes cannot move a copy across a boundary.
const NOW = Date.now()
const copy = (ageSeconds: number | undefined, headers: Record<string, string> = {}) =>
  new Response('x', {
    headers:
      ageSeconds === undefined ? headers : { ...headers, [STORED_AT]: String(NOW - ageSeconds * 1000) },
  })

const STATES = { fresh: FRESH, stale: STALE, 'stale-if-error': STALE_IF_ERROR, expired: EXPIRED }

describe('freshness', () => {
  it.each([
    [10, 'max-age=60', 0, 'fresh'],
    [10, 'public, Max-Age="60"', 0, 'fresh'],
    [61, 'max-age=60', 0, 'stale'],
    [90, 'max-age=60, stale-while-revalidate=60', 0, 'stale'],
    [130, 'max-age=60, stale-while-revalidate=60', 0, 'expired'],
    [130, 'max-age=60, stale-while-revalidate=60', 100, 'stale-if-error'],
    [130, 'max-age=60, stale-while-revalidate=60, stale-if-error=100', 0, 'stale-if-error'],
    [200, 'max-age=60, stale-while-revalidate=60, stale-if-error=100', 0, 'expired'],
    [10, 's-maxage=600', 0, 'stale'],
    [10, 'x-max-age=600', 0, 'stale'],
    [10, 'no-cache', 0, 'stale'],
    [10, '', 0, 'stale'],
  ] as const)(
    'a %d s old copy with "%s" (staleIfError %d) is %s',
    (age, cacheControl, staleIfError, expected) => {
      expect(freshness(copy(age, { 'cache-control': cacheControl }), { staleIfError })).toBe(STATES[expected])
    },
  )

  it('is expired past maxAgeSeconds, whatever Cache-Control says', () => {
    expect(freshness(copy(61, { 'cache-control': 'max-age=600' }), { maxAgeSeconds: 60 })).toBe(EXPIRED)
    expect(freshness(copy(59, { 'cache-control': 'max-age=600' }), { maxAgeSeconds: 60 })).toBe(FRESH)
  })

  it('without staleIfError, a copy past every window is expired', () => {
    const copy130 = copy(130, { 'cache-control': 'max-age=60, stale-while-revalidate=60' })
    expect(freshness(copy130, {})).toBe(EXPIRED)
    expect(freshness(copy130, { staleIfError: 100 })).toBe(STALE_IF_ERROR)
  })

  it('adds the Age header and treats unstamped (precached) copies as stale', () => {
    expect(freshness(copy(10, { 'cache-control': 'max-age=60', age: '50' }), {})).toBe(STALE)
    expect(freshness(copy(undefined, { 'cache-control': 'max-age=60' }), {})).toBe(STALE)
  })

  it('treats a copy precached from a manifest entry as fresh, whatever its headers say', () => {
    const precached = (headers: Record<string, string>) => copy(undefined, { [STORED_AT]: '2,', ...headers })
    expect(freshness(precached({}), {})).toBe(FRESH)
    expect(freshness(precached({ 'cache-control': 'no-cache' }), { maxAgeSeconds: 60 })).toBe(FRESH)
    expect(freshness(precached({ 'cache-control': 'max-age=0, stale-while-revalidate=0' }), {})).toBe(FRESH)
  })
})

describe('isExpired', () => {
  it('applies maxAgeSeconds to stamped copies only', () => {
    expect(isExpired(copy(61), { maxAgeSeconds: 60 })).toBe(true)
    expect(isExpired(copy(59), { maxAgeSeconds: 60 })).toBe(false)
    expect(isExpired(copy(undefined), { maxAgeSeconds: 60 })).toBe(false)
    expect(isExpired(copy(1e9), {})).toBe(false)
  })
})

describe('trim', () => {
  async function cacheWith(entries: [string, number | undefined][]) {
    const cache = new MemoryCache()
    for (const [path, age] of entries) await cache.put(`https://app.test${path}`, copy(age))
    return cache
  }
  const paths = async (cache: Cache) => (await cache.keys()).map((request) => new URL(request.url).pathname)

  it('deletes the oldest stamped entries beyond maxEntries, skipping precached ones and keep', async () => {
    const cache = await cacheWith([
      ['/shell', undefined],
      ['/index.html', 5],
      ['/a', 4],
      ['/b', 3],
      ['/c', 2],
    ])
    await trim(cache, { maxEntries: 3 }, 'https://app.test/index.html')
    expect(await paths(cache)).toEqual(['/shell', '/index.html', '/c'])
  })

  it('keeps a precached copy refreshed since (stamped with minus its time), however old, and ages it by max-age', async () => {
    const cache = new MemoryCache()
    const refreshed = (ageSeconds: number) =>
      new Response('x', {
        headers: { [STORED_AT]: String(-(NOW - ageSeconds * 1000)), 'cache-control': 'max-age=60' },
      })
    await cache.put('https://app.test/', refreshed(500))
    await cache.put('https://app.test/a', copy(2))
    await cache.put('https://app.test/b', copy(1))
    await trim(cache, { maxEntries: 2, maxAgeSeconds: 100 })
    expect(await paths(cache)).toEqual(['/', '/b'])
    expect(isExpired(refreshed(500), { maxAgeSeconds: 100 })).toBe(false)
    expect(freshness(refreshed(10), {})).toBe(FRESH)
    expect(freshness(refreshed(61), {})).toBe(STALE)
  })

  it('deletes expired entries and stops at the first live one', async () => {
    const cache = await cacheWith([
      ['/old', 100],
      ['/older-but-later', 200],
      ['/new', 1],
    ])
    await trim(cache, { maxAgeSeconds: 50 })
    expect(await paths(cache)).toEqual(['/new'])
  })

  it('shrinks to half after a quota error', async () => {
    const cache = await cacheWith([
      ['/1', 4],
      ['/2', 3],
      ['/3', 2],
      ['/4', 1],
    ])
    await trim(cache, {}, undefined, true)
    expect(await paths(cache)).toEqual(['/3', '/4'])
  })
})
