import { describe, expect, it } from 'vitest'
import { freshness, isExpired, STORED_AT, trim } from '../src/expiration.js'
import { MemoryCache } from './memory-cache-storage.js'

const NOW = 1_800_000_000_000
const copy = (ageSeconds: number | undefined, headers: Record<string, string> = {}) =>
  new Response('x', {
    headers:
      ageSeconds === undefined ? headers : { ...headers, [STORED_AT]: String(NOW - ageSeconds * 1000) },
  })

describe('freshness', () => {
  it.each([
    [10, 'max-age=60', 0, 'fresh'],
    [10, 'public, max-age="60"', 0, 'fresh'],
    [61, 'max-age=60', 0, 'stale'],
    [90, 'max-age=60, stale-while-revalidate=60', 0, 'stale'],
    [130, 'max-age=60, stale-while-revalidate=60', 0, 'expired'],
    [130, 'max-age=60, stale-while-revalidate=60', 100, 'stale-if-error'],
    [130, 'max-age=60, stale-while-revalidate=60, stale-if-error=100', 0, 'stale-if-error'],
    [200, 'max-age=60, stale-while-revalidate=60, stale-if-error=100', 0, 'expired'],
    [10, 's-maxage=600', 0, 'stale'],
    [10, 'no-cache', 0, 'stale'],
    [10, '', 0, 'stale'],
  ] as const)(
    'a %d s old copy with "%s" (staleIfError %d) is %s',
    (age, cacheControl, staleIfError, expected) => {
      expect(freshness(copy(age, { 'cache-control': cacheControl }), staleIfError, NOW)).toBe(expected)
    },
  )

  it('adds the Age header and treats unstamped (precached) copies as stale', () => {
    expect(freshness(copy(10, { 'cache-control': 'max-age=60', age: '50' }), 0, NOW)).toBe('stale')
    expect(freshness(copy(undefined, { 'cache-control': 'max-age=60' }), 0, NOW)).toBe('stale')
  })
})

describe('isExpired', () => {
  it('applies maxAgeSeconds to stamped copies only', () => {
    expect(isExpired(copy(61), 60, NOW)).toBe(true)
    expect(isExpired(copy(59), 60, NOW)).toBe(false)
    expect(isExpired(copy(undefined), 60, NOW)).toBe(false)
    expect(isExpired(copy(1e9), undefined, NOW)).toBe(false)
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
    expect(await trim(cache, { maxEntries: 3, keep: 'https://app.test/index.html' }, false, NOW)).toBe(2)
    expect(await paths(cache)).toEqual(['/shell', '/index.html', '/c'])
  })

  it('deletes expired entries and stops at the first live one', async () => {
    const cache = await cacheWith([
      ['/old', 100],
      ['/older-but-later', 200],
      ['/new', 1],
    ])
    expect(await trim(cache, { maxAgeSeconds: 50 }, false, NOW)).toBe(2)
    expect(await paths(cache)).toEqual(['/new'])
  })

  it('shrinks to half after a quota error', async () => {
    const cache = await cacheWith([
      ['/1', 4],
      ['/2', 3],
      ['/3', 2],
      ['/4', 1],
    ])
    expect(await trim(cache, {}, true, NOW)).toBe(2)
    expect(await paths(cache)).toEqual(['/3', '/4'])
  })
})
