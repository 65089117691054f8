// Argument checks of cachedRange; its answers are checked in a real service worker
// (test/browser/releases.test.ts).
import { describe, expect, it } from 'vitest'
import { cachedRange } from '../src/index.js'

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
  })
})
