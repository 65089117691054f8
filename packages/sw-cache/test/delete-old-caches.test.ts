import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deleteOldCaches, precache, staleWhileRevalidate } from '../src/index.js'
import { installCaches, type MemoryCacheStorage } from './memory-cache-storage.js'
import { fetchEvent, type Origin, startOrigin } from './origin.js'

let origin: Origin
let storage: MemoryCacheStorage

beforeEach(async () => {
  origin = await startOrigin()
  storage = installCaches()
  origin.routes.set('/index.html', { body: '<shell>' })
})

afterEach(() => origin.close())

async function runtime(cacheName: string) {
  const event = fetchEvent(origin.url('/index.html'))
  await (await staleWhileRevalidate(event, { cacheName })).text()
  await event.settled()
}

describe('deleteOldCaches', () => {
  it('deletes every cache of ours not kept, precache and runtime ones, and nothing else', async () => {
    await precache('app-v1', [origin.url('/index.html')])
    await runtime('runtime-v1')
    await precache('app-v2', [origin.url('/index.html')])
    await runtime('runtime-v2')
    await (await storage.open('someone-elses')).put(origin.url('/index.html'), new Response('theirs'))
    const deleted = await deleteOldCaches({ keep: ['app-v2', 'runtime-v2'] })
    expect(deleted.sort()).toEqual(['app-v1', 'runtime-v1'])
    expect((await storage.keys()).sort()).toEqual(['app-v2', 'runtime-v2', 'someone-elses'])
    expect(await deleteOldCaches({ keep: ['app-v2', 'runtime-v2'] })).toEqual([])
  })

  it('with prefix also deletes caches written before this library was used', async () => {
    await storage.open('taurobot-v1')
    await storage.open('other-app')
    await precache('taurobot-v2', [origin.url('/index.html')])
    expect(await deleteOldCaches({ keep: ['taurobot-v2'], prefix: 'taurobot-' })).toEqual(['taurobot-v1'])
    expect((await storage.keys()).sort()).toEqual(['other-app', 'taurobot-v2'])
  })

  it('recognises our caches by the stamp on their oldest entry, and leaves empty ones', async () => {
    await precache('app-v1', [origin.url('/index.html')])
    await (await storage.open('app-v1')).put(origin.url('/manual'), new Response('added by hand'))
    await storage.open('empty')
    const mixed = await storage.open('mixed')
    await mixed.put(origin.url('/first'), new Response('not ours'))
    await mixed.put(origin.url('/later'), new Response('x', { headers: { 'sw-cache-stored-at': '1' } }))
    expect(await deleteOldCaches({ keep: [] })).toEqual(['app-v1'])
    expect((await storage.keys()).sort()).toEqual(['empty', 'mixed'])
  })

  it('handles cache names that are not URL-safe', async () => {
    const name = '../weird name?#%'
    await precache(name, [origin.url('/index.html')])
    expect(await deleteOldCaches({ keep: [] })).toEqual([name])
  })

  it('checks its options up front', () => {
    expect(() => deleteOldCaches({ keep: 'v2' as never })).toThrow(
      new TypeError('keep must be an array of cache names, got "v2"'),
    )
    expect(() => deleteOldCaches(undefined as never)).toThrow(TypeError)
    expect(() => deleteOldCaches({ keep: [], prefix: '' })).toThrow(
      new TypeError('prefix must be a non-empty string, got ""'),
    )
    expect(() => deleteOldCaches({ keeps: ['v2'] } as never)).toThrow(
      new TypeError('unknown option "keeps" of deleteOldCaches(): did you mean keep?'),
    )
  })
})
