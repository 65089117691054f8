// The strategy inside a real service worker in Chromium. Origin requests are counted by the test
// server; every test ends by checking that the worker saw no unhandled rejection.
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { burst, cached, cachedPaths, get, idle, register, SHELL, stats, useHarness } from './harness.js'

// Background work in the worker (revalidation, activation) can take seconds on a loaded machine;
// vitest's default poll gives up after one.
const SLOW = { timeout: 10_000, interval: 50 }

describe.each(['development', 'production'] as const)('in a real service worker, %s build', (build) => {
  const suite = useHarness(build)
  let page: Page

  async function open(config = {}) {
    page = await suite.open(config)
  }

  const route = (path: string, body: string, headers: Record<string, string> = {}, delayMs = 0) =>
    suite.harness.origin.routes.set(path, { body, headers, delayMs })

  it('checks options in the development build only, though a service worker has no process', async () => {
    await open()
    expect((await stats(page)).checks).toBe(
      build === 'development' ? 'TypeError: channelName must be a non-empty string, got ""' : '',
    )
  })

  it('misses, hits and revalidates in the background, navigations included', async () => {
    await open()
    route('/data', 'v1')
    expect(await get(page, '/data')).toMatchObject({ status: 200, body: 'v1' })
    await idle(page)
    route('/data', 'v2')
    expect((await get(page, '/data')).body).toBe('v1')
    await idle(page)
    expect(await cached(page, 'app-v1', '/data')).toBe('v2')
    expect((await get(page, '/data')).body).toBe('v2')
    // The answer came from cache; its revalidation reaches the origin in the background.
    await idle(page)
    expect(suite.harness.origin.hits('/data')).toBe(3)
    // A navigation hit (the precached home page) is answered and revalidated the same way.
    const before = suite.harness.origin.hits('/')
    await page.reload()
    expect(await page.title()).toBe('home')
    expect((await idle(page)).errors).toEqual([])
    expect(suite.harness.origin.hits('/')).toBe(before + 1)
  })

  it('sends one origin request for 20 concurrent hits', async () => {
    await open()
    route('/hot', 'old')
    await get(page, '/hot')
    await idle(page)
    route('/hot', 'new', {}, 300)
    expect(await burst(page, '/hot', 20)).toEqual(Array(20).fill('old'))
    await idle(page)
    expect(suite.harness.origin.hits('/hot')).toBe(2)
    expect(await cached(page, 'app-v1', '/hot')).toBe('new')
  })

  it('sends one origin request for 20 concurrent misses and answers all of them', async () => {
    await open()
    route('/cold', 'c'.repeat(50_000), {}, 300)
    const bodies = await burst(page, '/cold', 20)
    expect(bodies.every((body) => body === 'c'.repeat(50_000))).toBe(true)
    await idle(page)
    expect(suite.harness.origin.hits('/cold')).toBe(1)
  })

  it('serves a copy still fresh under its max-age without any network request', async () => {
    await open()
    route('/fresh', 'first', { 'cache-control': 'max-age=600' })
    await get(page, '/fresh')
    await idle(page)
    route('/fresh', 'second', { 'cache-control': 'max-age=600' })
    for (let i = 0; i < 3; i++) expect((await get(page, '/fresh')).body).toBe('first')
    await idle(page)
    expect(suite.harness.origin.hits('/fresh')).toBe(1)
  })

  it('posts exactly one update notice per change, decided by validators or else by the body', async () => {
    await open()
    await page.evaluate(() => {
      const seen: string[] = []
      Object.assign(globalThis, { seen })
      new BroadcastChannel('sw-cache').onmessage = ({ data }) => seen.push(new URL(data.url).pathname)
    })
    const notices = () => page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen)
    const revalidate = async (path: string) => {
      const before = (await stats(page)).revalidations
      await get(page, path)
      await expect.poll(async () => (await stats(page)).revalidations, SLOW).toBe(before + 1)
    }
    route('/news', 'monday')
    await get(page, '/news')
    await idle(page)
    await revalidate('/news') // same body: no notice
    route('/news', 'tuesday')
    await revalidate('/news')
    await expect.poll(notices, SLOW).toEqual(['/news'])
    await revalidate('/news') // unchanged again
    // With an ETag the validator decides, even when the body changes.
    route('/tagged', 'a', { etag: '"1"' })
    await get(page, '/tagged')
    await idle(page)
    route('/tagged', 'b', { etag: '"1"' })
    await revalidate('/tagged')
    route('/tagged', 'b', { etag: '"2"' })
    await revalidate('/tagged')
    await expect.poll(notices, SLOW).toEqual(['/news', '/tagged'])
    expect(await notices()).toEqual(['/news', '/tagged'])
  })

  it('keeps Vary variants apart and passes Range requests through', async () => {
    await open()
    suite.harness.origin.routes.set('/neg', (request) => ({
      headers: { vary: 'Accept' },
      body: `as ${request.headers.accept}`,
      delayMs: 200,
    }))
    const variants = () =>
      page.evaluate(() =>
        Promise.all(
          ['application/json', 'text/csv'].map((accept) =>
            fetch('/neg', { headers: { accept } }).then((response) => response.text()),
          ),
        ),
      )
    expect(await variants()).toEqual(['as application/json', 'as text/csv'])
    await idle(page)
    expect(suite.harness.origin.hits('/neg')).toBe(2)
    // Two hits of two variants: each variant is revalidated.
    expect(await variants()).toEqual(['as application/json', 'as text/csv'])
    await idle(page)
    expect(suite.harness.origin.hits('/neg')).toBe(4)
    suite.harness.origin.routes.set('/video', (request) => ({
      status: 206,
      body: `part ${request.headers.range}`,
    }))
    const part = await page.evaluate(async () => {
      const response = await fetch('/video', { headers: { range: 'bytes=0-3' } })
      return `${response.status} ${await response.text()}`
    })
    expect(part).toBe('206 part bytes=0-3')
    await idle(page)
    expect(await cachedPaths(page, 'app-v1')).not.toContain('/video')
  })

  it('keeps at most maxEntries entries, never evicting the precached ones, refreshed or not', async () => {
    await open({ maxEntries: 5 })
    // A precached page served stale and refreshed in the background stays precached.
    await get(page, '/')
    await idle(page)
    for (const n of [1, 2, 3, 4, 5]) {
      route(`/e${n}`, `entry ${n}`)
      await get(page, `/e${n}`)
      await idle(page)
    }
    const paths = await cachedPaths(page, 'app-v1')
    // The precached pair is stored in parallel, in either order.
    expect([...paths.slice(0, 2).sort(), ...paths.slice(2)]).toEqual([
      '/',
      '/index.html',
      '/e3',
      '/e4',
      '/e5',
    ])
  })

  it('on upgrade deletes the old version caches of ours, precache and runtime, and nothing else', async () => {
    await open({ version: 'v1', runtime: true })
    route('/r', 'runtime')
    await get(page, '/r')
    await idle(page)
    await page.evaluate(async () => (await caches.open('not-ours')).put('/theirs', new Response('theirs')))
    const names = () => page.evaluate(() => caches.keys())
    expect((await names()).sort()).toEqual(['app-v1', 'not-ours', 'runtime-v1'])
    await register(page, { version: 'v2', runtime: true })
    // The new worker takes control before its activate handler has finished deleting.
    await expect.poll(async () => (await names()).sort(), SLOW).toEqual(['app-v2', 'not-ours'])
    expect((await stats(page)).deleted.sort()).toEqual(['app-v1', 'runtime-v1'])
  })

  it('offline, navigations get the precached page and other requests a network error', async () => {
    await open()
    suite.harness.origin.routes.set('/deep/link', { fail: true })
    suite.harness.origin.routes.set('/api/me', { fail: true })
    const response = await page.goto(suite.harness.origin.url('/deep/link'))
    expect(response?.status()).toBe(200)
    expect(await page.content()).toContain('offline shell')
    expect(await get(page, '/api/me')).toMatchObject({
      status: 0,
      error: expect.stringContaining('TypeError'),
    })
    // Each failed network request is reported once; the API call also could not be answered.
    expect((await idle(page)).errors.sort()).toEqual([
      'network-and-cache-failed',
      'revalidation-failed',
      'revalidation-failed',
    ])
  })

  it('reports a failing revalidation, answers from the cache, and leaves no unhandled rejection', async () => {
    await open()
    route('/flaky', 'ok')
    await get(page, '/flaky')
    await idle(page)
    suite.harness.origin.routes.set('/flaky', { fail: true })
    expect((await get(page, '/flaky')).body).toBe('ok')
    const after = await idle(page)
    expect(after.errors).toEqual(['revalidation-failed'])
    expect(after.unhandled).toBe(0)
    // Production messages name the code where development ones explain and advise.
    const url = suite.harness.origin.url('/flaky')
    expect(after.messages).toEqual([
      build === 'development'
        ? `[@taurobot/sw-cache] ${url} in "app-v1": update failed; any cached copy stays.`
        : `[@taurobot/sw-cache] ${url} in "app-v1": revalidation-failed`,
    ])
  })

  it('fails the install when a precached asset fails, so the broken version never activates', async () => {
    const isolated = await suite.harness.browser.newContext()
    try {
      const fresh = await isolated.newPage()
      await fresh.goto(suite.harness.origin.url('/'))
      const outcome = await fresh.evaluate(async () => {
        const registration = await navigator.serviceWorker.register(
          `/sw.js?config=${encodeURIComponent(JSON.stringify({ precache: ['/', '/missing.js'] }))}`,
        )
        const worker = registration.installing
        if (worker?.state !== 'redundant')
          await new Promise((resolve) => worker?.addEventListener('statechange', resolve))
        return { state: worker?.state, active: registration.active, caches: await caches.keys() }
      })
      expect(outcome.state).toBe('redundant')
      expect(outcome.active).toBeNull()
      expect(SHELL).toContain('shell')
    } finally {
      await isolated.close()
    }
  })
})
