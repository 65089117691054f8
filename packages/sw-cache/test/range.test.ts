// Argument checks of cachedRange; its answers are checked in a real service worker
// (test/browser/releases.test.ts).
import { describe, expect, it } from 'vitest'
import { cachedRange } from '../src/index.js'
import { installCaches } from './memory-cache-storage.js'

describe('cachedRange', () => {
  it('names every bad argument', async () => {
    await expect(cachedRange('/clip.ogg' as never)).rejects.toThrow(
      new TypeError('request must be a Request, got "/clip.ogg"'),
    )
    const request = new Request('http://127.0.0.1/clip.ogg', { headers: { range: 'bytes=0-1' } })
    await expect(cachedRange(request, null as never)).rejects.toThrow(
      new TypeError('options must be an object, got null'),
    )
    await expect(cachedRange(request, { cacheName: '' })).rejects.toThrow(
      new TypeError('cacheName must be a non-empty string, got ""'),
    )
    await expect(cachedRange(request, { cache: 'media' } as never)).rejects.toThrow(
      new TypeError('unknown option "cache" of cachedRange(): did you mean cacheName?'),
    )
  })
  it('needs no options: without them it looks in every cache', async () => {
    const cache = await installCaches().open('media')
    await cache.put('http://127.0.0.1/clip.ogg', new Response('0123456789'))
    const response = await cachedRange(
      new Request('http://127.0.0.1/clip.ogg', { headers: { range: 'bytes=2-4' } }),
    )
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 2-4/10')
    expect(response.headers.get('content-length')).toBe('3')
    expect(await response.text()).toBe('234')
  })
})
