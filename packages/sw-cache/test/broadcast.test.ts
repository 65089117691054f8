import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  broadcastUpdate,
  hasChanged,
  type SwCacheError,
  staleWhileRevalidate,
  type UpdateMessage,
} from '../src/index.js'
import { installCaches } from './memory-cache-storage.js'
import { fetchEvent, type Origin, startOrigin } from './origin.js'

const response = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Response(body, { headers })

/** A body delivered in the given chunks, to exercise chunk boundaries that differ between bodies. */
const chunked = (...chunks: string[]) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
        controller.close()
      },
    }),
  )

describe('hasChanged', () => {
  it('trusts ETag when both responses have one, whatever the bodies say', async () => {
    expect(await hasChanged(response('a', { etag: '"1"' }), response('b', { etag: '"1"' }))).toBe(false)
    expect(await hasChanged(response('a', { etag: '"1"' }), response('a', { etag: '"2"' }))).toBe(true)
  })

  it('reports a different Last-Modified or Content-Length as a change', async () => {
    const monday = { 'last-modified': 'Mon, 23 Nov 2026 10:00:00 GMT' }
    const tuesday = { 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' }
    expect(await hasChanged(response('a', monday), response('a', tuesday))).toBe(true)
    expect(
      await hasChanged(response('a', { 'content-length': '1' }), response('ab', { 'content-length': '2' })),
    ).toBe(true)
  })

  it('compares bodies when validators are missing or not conclusive', async () => {
    const monday = { 'last-modified': 'Mon, 23 Nov 2026 10:00:00 GMT' }
    // Same second, different content: Last-Modified alone would miss it.
    expect(await hasChanged(response('a', monday), response('b', monday))).toBe(true)
    expect(await hasChanged(response('same', monday), response('same', monday))).toBe(false)
    expect(await hasChanged(response('a', { etag: '"1"' }), response('a'))).toBe(false)
    expect(await hasChanged(response('a', { etag: '"1"' }), response('b'))).toBe(true)
  })

  it('compares bodies chunk by chunk, whatever the chunk boundaries', async () => {
    expect(await hasChanged(chunked('hel', 'lo wor', 'ld'), chunked('hello', ' ', 'world'))).toBe(false)
    expect(await hasChanged(chunked('hello', ' world'), chunked('hello', ' worle'))).toBe(true)
    expect(await hasChanged(chunked('hello'), chunked('hello', '!'))).toBe(true)
    expect(await hasChanged(chunked('', 'x'), chunked('x', ''))).toBe(false)
    expect(await hasChanged(response(null), response(''))).toBe(false)
    expect(await hasChanged(response(null), response('x'))).toBe(true)
  })

  it('stops at the first difference and releases both bodies', async () => {
    let pulled = 0
    const endless = new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++
          controller.enqueue(new Uint8Array(1024).fill(1))
        },
      }),
    )
    expect(await hasChanged(endless, response(new Uint8Array(1024).fill(2)))).toBe(true)
    expect(pulled).toBeLessThan(5)
  })
})

describe('broadcastUpdate', () => {
  let origin: Origin
  let channel: BroadcastChannel
  let messages: UpdateMessage[]
  let errors: SwCacheError[]

  beforeEach(async () => {
    origin = await startOrigin()
    installCaches()
    messages = []
    errors = []
    channel = new BroadcastChannel('updates-test')
    channel.onmessage = (event: MessageEvent<UpdateMessage>) => messages.push(event.data)
  })

  afterEach(async () => {
    channel.close()
    await origin.close()
  })

  async function revalidate(path: string) {
    const event = fetchEvent(origin.url(path))
    await staleWhileRevalidate(event, {
      cacheName: 'news',
      onRevalidated: broadcastUpdate({ channelName: 'updates-test' }),
      onError: (error) => errors.push(error),
    })
    await event.settled()
  }

  it('posts exactly one message per change, after the new copy is stored', async () => {
    origin.routes.set('/feed', { body: 'monday' })
    await revalidate('/feed') // miss: nothing to compare with
    await revalidate('/feed') // unchanged
    origin.routes.set('/feed', { body: 'tuesday' })
    await revalidate('/feed') // changed
    await revalidate('/feed') // unchanged again
    origin.routes.set('/other', { body: 'x' })
    await revalidate('/other')
    origin.routes.set('/other', { body: 'y' })
    await revalidate('/other')
    await expect.poll(() => messages.length).toBe(2)
    const at = expect.any(Number)
    expect(messages).toEqual([
      { type: 'sw-cache:updated', cacheName: 'news', url: origin.url('/feed'), at },
      { type: 'sw-cache:updated', cacheName: 'news', url: origin.url('/other'), at },
    ])
    expect(errors).toEqual([])
  })

  it('checks its options up front', () => {
    expect(() => broadcastUpdate({ channelName: '' })).toThrow(
      new TypeError('channelName must be a non-empty string, got ""'),
    )
  })
})
