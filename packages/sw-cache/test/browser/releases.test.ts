// Releases, navigation preload and cached media inside a real service worker in Chromium. Origin
// requests are counted by the test server; every test ends by checking that the worker saw no
// unhandled rejection.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { PrecacheEntry } from '../../src/index.js'
import type { FixtureConfig } from './fixture-sw.js'
import { cached, cachedPaths, get, idle, register, stats, useHarness } from './harness.js'

const SLOW = { timeout: 10_000, interval: 50 }
// A 4-second 440 Hz tone, Ogg Opus (11.8 KB): a voice clip as the bot serves them.
const CLIP = new Uint8Array(readFileSync(new URL('../fixtures/clip.ogg', import.meta.url)))
const sri = (body: string) => `sha256-${createHash('sha256').update(body).digest('base64')}`

describe.each(['development', 'production'] as const)('releases and media, %s build', (build) => {
  const suite = useHarness(build)
  let page: Page

  async function open(config: FixtureConfig = {}) {
    page = await suite.open(config)
  }

  const route = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    suite.harness.origin.routes.set(path, { body, headers })

  /** Registers `config` in a context of its own: the state the installing worker reached. */
  async function install(config: FixtureConfig) {
    const isolated = await suite.harness.browser.newContext()
    try {
      const fresh = await isolated.newPage()
      await fresh.goto(suite.harness.origin.url('/'))
      return await fresh.evaluate(async (json) => {
        const registration = await navigator.serviceWorker.register(
          `/sw.js?config=${encodeURIComponent(json)}`,
        )
        const worker = registration.installing
        await new Promise<void>((resolve) => {
          const settled = () => worker?.state === 'redundant' || worker?.state === 'activated'
          if (settled()) resolve()
          worker?.addEventListener('statechange', () => settled() && resolve())
        })
        return { state: worker?.state, caches: await caches.keys() }
      }, JSON.stringify(config))
    } finally {
      await isolated.close()
    }
  }

  describe('revisioned precache', () => {
    const site = (a: string, withB = true): PrecacheEntry[] => [
      { url: '/r/a.js', revision: a },
      ...(withB ? [{ url: '/r/b.js', revision: '1' }] : []),
      { url: '/r/c.js', revision: '1' },
      { url: '/r/style.5d41.css' },
    ]

    it('downloads only the changed file on update, reuses the rest and removes the old entries on activate', async () => {
      for (const path of ['/r/a.js', '/r/b.js', '/r/c.js', '/r/style.5d41.css']) route(path, `${path} 1`)
      await open({ version: 'v1', precache: site('1') })
      expect(await cached(page, 'app-v1', '/r/b.js')).toBe('/r/b.js 1')
      const before = suite.harness.origin.requests.length
      route('/r/a.js', '/r/a.js 2')
      route('/r/c.js', '/r/c.js changed on the origin, same revision')
      // Release 2 changes a.js and drops b.js.
      await register(page, { version: 'v2', precache: site('2', false) })
      const fetched = suite.harness.origin.requests.slice(before).map((request) => request.path)
      expect(fetched.filter((path) => path !== '/sw.js')).toEqual(['/r/a.js'])
      expect(await cached(page, 'app-v2', '/r/a.js')).toBe('/r/a.js 2')
      expect(await cached(page, 'app-v2', '/r/c.js')).toBe('/r/c.js 1')
      expect((await cachedPaths(page, 'app-v2')).sort()).toEqual(['/r/a.js', '/r/c.js', '/r/style.5d41.css'])
      await expect.poll(() => page.evaluate(() => caches.keys()), SLOW).toEqual(['app-v2'])
      expect((await stats(page)).deleted).toEqual(['app-v1'])
    })

    it('keeps revisioned entries as precached when the strategy answers them from the same cache, so the next release downloads only the changed file', async () => {
      const paths = ['/r/a.js', '/r/b.js', '/r/c.js', '/r/style.5d41.css']
      for (const path of paths) route(path, `${path} 1`)
      // The precache and the strategy share the cache app-v1, as the README's example does.
      await open({ version: 'v1', precache: site('1') })
      // The origin moves on before the release does: the tab keeps release 1's files.
      route('/r/b.js', '/r/b.js edited on the origin')
      for (const path of paths) expect((await get(page, path)).body).toBe(`${path} 1`)
      await idle(page)
      const before = suite.harness.origin.requests.length
      route('/r/a.js', '/r/a.js 2')
      await register(page, { version: 'v2', precache: site('2') })
      const fetched = suite.harness.origin.requests.slice(before).map((request) => request.path)
      expect(fetched.filter((path) => path !== '/sw.js')).toEqual(['/r/a.js'])
      expect(await cached(page, 'app-v2', '/r/a.js')).toBe('/r/a.js 2')
      // The release's file, not what the origin served meanwhile.
      expect(await cached(page, 'app-v2', '/r/b.js')).toBe('/r/b.js 1')
      expect((await get(page, '/r/b.js')).body).toBe('/r/b.js 1')
    })

    it('installs when each download matches its integrity and fails the install on a mismatch', async () => {
      route('/r/sri.js', 'signed')
      expect(
        await install({ version: 'ok', precache: [{ url: '/r/sri.js', integrity: sri('signed') }] }),
      ).toEqual({
        state: 'activated',
        caches: ['app-ok'],
      })
      route('/r/sri.js', 'tampered')
      expect(
        await install({
          version: 'bad',
          precache: ['/', { url: '/r/sri.js', revision: '1', integrity: sri('signed') }],
        }),
      ).toEqual({ state: 'redundant', caches: [] })
    })
  })

  describe.each([true, false])('navigation preload %s', (preload) => {
    it('sends one origin request per navigation, miss or hit', async () => {
      await open({ preload })
      const path = `/nav-${preload}`
      route(path, '<!doctype html><title>nav</title>', { 'content-type': 'text/html' })
      for (const hits of [1, 2]) {
        await page.goto(suite.harness.origin.url(path))
        expect(await page.title()).toBe('nav')
        await idle(page)
        expect(suite.harness.origin.hits(path)).toBe(hits)
      }
      expect(await cached(page, 'app-v1', path)).toContain('<title>nav</title>')
      const sent = suite.harness.origin.requests.filter((request) => request.path === path)
      expect(sent.map((request) => request.headers['service-worker-navigation-preload'])).toEqual(
        preload ? ['true', 'true'] : [undefined, undefined],
      )
      expect((await stats(page)).errors).toEqual([])
    })
  })

  describe('cached media', () => {
    /** fetch() with a Range header from the page: status, Content-Range and the body's bytes. */
    const ranged = (range: string) =>
      page.evaluate(async (value) => {
        const response = await fetch('/media/clip.ogg', { headers: { range: value } })
        return {
          status: response.status,
          contentRange: response.headers.get('content-range'),
          contentLength: response.headers.get('content-length'),
          bytes: Array.from(new Uint8Array(await response.arrayBuffer())),
        }
      }, range)

    async function openOffline() {
      route('/media/clip.ogg', CLIP, { 'content-type': 'audio/ogg' })
      await open({ precache: [{ url: '/media/clip.ogg', revision: '1' }] })
      suite.harness.origin.routes.set('/media/clip.ogg', { fail: true })
      return suite.harness.origin.hits('/media/clip.ogg')
    }

    it('answers one range of a cached clip with a 206 slice, offline', async () => {
      const hits = await openOffline()
      const size = CLIP.length
      const slice = (start: number, end: number) => ({
        status: 206,
        contentRange: `bytes ${start}-${end}/${size}`,
        contentLength: String(end - start + 1),
        bytes: Array.from(CLIP.subarray(start, end + 1)),
      })
      expect(await ranged('bytes=100-1099')).toEqual(slice(100, 1099))
      expect(await ranged('bytes=11000-')).toEqual(slice(11000, size - 1))
      expect(await ranged('bytes=-500')).toEqual(slice(size - 500, size - 1))
      expect(await ranged(`bytes=${size - 10}-${size + 1000}`)).toEqual(slice(size - 10, size - 1))
      expect(await ranged(`bytes=-${size + 5}`)).toEqual(slice(0, size - 1))
      // Unsatisfiable: starts past the end.
      expect(await ranged(`bytes=${size}-`)).toMatchObject({ status: 416, contentRange: `bytes */${size}` })
      expect(await ranged('bytes=-0')).toMatchObject({ status: 416, contentRange: `bytes */${size}` })
      // Several ranges or a malformed header: the whole cached body with its 200.
      for (const value of ['bytes=0-9,20-29', 'bytes=9-0', 'items=0-9', 'bytes=-'])
        expect(await ranged(value)).toMatchObject({
          status: 200,
          contentRange: null,
          bytes: Array.from(CLIP),
        })
      expect(suite.harness.origin.hits('/media/clip.ogg')).toBe(hits)
    })

    it('lets an <audio> element play and seek a cached Ogg clip offline', async () => {
      const hits = await openOffline()
      const played = await page.evaluate(async () => {
        // The tests compile against the worker's types, which have no DOM.
        type MediaElement = EventTarget & {
          src: string
          muted: boolean
          currentTime: number
          readonly duration: number
          readonly ended: boolean
          readonly error: { code: number } | null
          play(): Promise<void>
        }
        const { document } = globalThis as unknown as {
          document: { createElement(tag: 'audio'): MediaElement }
        }
        const audio = document.createElement('audio')
        audio.src = '/media/clip.ogg'
        // Muted playback needs no user gesture.
        audio.muted = true
        const once = (name: string) =>
          new Promise((resolve, reject) => {
            audio.addEventListener(name, resolve, { once: true })
            audio.addEventListener('error', () => reject(new Error(`media error ${audio.error?.code}`)), {
              once: true,
            })
          })
        await audio.play()
        audio.currentTime = 3
        await once('seeked')
        await once('ended')
        return { duration: audio.duration, ended: audio.ended }
      })
      expect(played.ended).toBe(true)
      expect(played.duration).toBeGreaterThan(3.9)
      const ranges = (await stats(page)).ranges
      expect(ranges.length).toBeGreaterThan(0)
      expect(ranges.every((answer) => answer.endsWith(' 206'))).toBe(true)
      expect(suite.harness.origin.hits('/media/clip.ogg')).toBe(hits)
    })

    it('passes a range of an uncached URL through to the network', async () => {
      await open()
      suite.harness.origin.routes.set('/media/live', (request) => ({
        status: 206,
        body: `part ${request.headers.range}`,
      }))
      const answer = await page.evaluate(async () => {
        const response = await fetch('/media/live', { headers: { range: 'bytes=0-3' } })
        return `${response.status} ${await response.text()}`
      })
      expect(answer).toBe('206 part bytes=0-3')
      expect(suite.harness.origin.hits('/media/live')).toBe(1)
    })
  })
})
