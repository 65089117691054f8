// One-reload deploys and counters inside a real service worker in Chromium: two releases of a
// fixture site served under one worker URL, pages running the client helper, requests counted by
// the test server.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Counters } from '../../src/index.js'
import type { FixtureConfig } from './fixture-sw.js'
import { idle, SHELL, stats, useHarness } from './harness.js'

const SLOW = { timeout: 10_000, interval: 50 }

/** What the fixture page records (fixture-page.ts), as the test reads it. */
interface PageLog {
  loads: number
  toldAt: number
  told: number
  updated: string[]
}
type PageGlobals = {
  log?: PageLog & { apply?: () => void }
  readCounters(reset?: boolean, timeoutMs?: number): Promise<Counters>
  localStorage: { late?: string }
}

describe.each(['development', 'production'] as const)('deploys and counters, %s build', (kind) => {
  const suite = useHarness(kind)
  let pageScript: string

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./fixture-page.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      target: 'es2022',
      write: false,
      ...(kind === 'production' ? { platform: 'browser', minify: true } : {}),
    })
    pageScript = bundle.outputFiles[0]?.text ?? ''
  })

  /** Serves release `n` of the site: its page, assets and worker, all under the same URLs. */
  function release(n: number, version = `d${n}`, extra: FixtureConfig = {}) {
    const route = (path: string, body: string, type = 'text/plain') =>
      suite.harness.origin.routes.set(path, { body, headers: { 'content-type': type } })
    route(
      '/d/app.html',
      `<!doctype html><title>release ${n}</title><script src="/d/page.js"></script>`,
      'text/html',
    )
    route('/d/page.js', pageScript, 'text/javascript')
    route('/d/a.js', `a ${n}`)
    route('/d/style.css', `style ${n}`)
    const config: FixtureConfig = {
      ...extra,
      version,
      waits: true,
      // The page is precached as a plain URL, so the strategy revalidates it and notices its
      // changes; the revisioned files stay the release's own until the next release.
      precache: [
        '/index.html',
        '/d/app.html',
        ...['/d/page.js', '/d/a.js', '/d/style.css'].map((url) => ({
          url,
          revision: String(n),
        })),
      ],
    }
    route(
      '/deploy-sw.js',
      `var FIXTURE = ${JSON.stringify(JSON.stringify(config))};\n${suite.harness.code}`,
      'text/javascript',
    )
  }

  /** A tab on the site, once its worker controls it. */
  async function tab(): Promise<Page> {
    const page = await (await suite.context()).newPage()
    await page.goto(suite.harness.origin.url('/d/app.html'))
    await page.waitForFunction(
      () => navigator.serviceWorker.controller !== null && (globalThis as unknown as PageGlobals).log,
    )
    return page
  }

  const log = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).log as PageLog)
  const assets = (page: Page) =>
    page.evaluate(async () => ({
      title: (globalThis as unknown as { document: { title: string } }).document.title,
      a: await (await fetch('/d/a.js')).text(),
      style: await (await fetch('/d/style.css')).text(),
    }))
  const release2 = { title: 'release 2', a: 'a 2', style: 'style 2' }

  it('tells a tab that was hidden and shown again, within 1 s of the new release being served, and a second tab; one reload each, no loop', async () => {
    release(1)
    const first = await tab()
    const second = await tab()
    expect(await assets(first)).toEqual({ title: 'release 1', a: 'a 1', style: 'style 1' })
    expect((await log(first)).told).toBe(0)
    release(2)
    // Headless Chromium keeps every tab visible, so the page sees hidden and visible the way the
    // browser reports them: document.hidden and a visibilitychange event.
    const shown = await first.evaluate(() => {
      const page = globalThis as unknown as { document: EventTarget & { hidden: boolean } }
      for (const hidden of [true, false]) {
        Object.defineProperty(page.document, 'hidden', { value: hidden, configurable: true })
        page.document.dispatchEvent(new Event('visibilitychange'))
      }
      return Date.now()
    })
    await expect.poll(async () => (await log(first)).told, SLOW).toBeGreaterThan(0)
    // Shown again, the tab checked for an update at once: the new worker's script was requested.
    // When the browser sends that request depends on its scheduling (seconds on a loaded machine);
    // from then on, installing the release and telling the tab take less than a second.
    const fetched = suite.harness.origin.requests.filter((r) => r.path === '/deploy-sw.js' && r.at >= shown)
    expect(fetched).toHaveLength(1)
    expect((await log(first)).toldAt - (fetched[0]?.at ?? 0)).toBeLessThan(1000)
    await expect.poll(async () => (await log(second)).told, SLOW).toBeGreaterThan(0)

    // Ignored: nothing reloads, and the tab stays on release 1.
    await first.waitForTimeout(1500)
    expect((await log(first)).loads).toBe(1)
    expect(await assets(first)).toEqual({ title: 'release 1', a: 'a 1', style: 'style 1' })

    await first.evaluate(() => (globalThis as unknown as PageGlobals).log?.apply?.())
    await first.waitForFunction(() => (globalThis as unknown as PageGlobals).log?.loads === 2)
    expect(await assets(first)).toEqual(release2)
    // The second tab was told and is not reloaded behind the user's back; its apply() reloads it.
    expect((await log(second)).loads).toBe(1)
    await second.evaluate(() => (globalThis as unknown as PageGlobals).log?.apply?.())
    await second.waitForFunction(() => (globalThis as unknown as PageGlobals).log?.loads === 2)
    expect(await assets(second)).toEqual(release2)
    await first.waitForTimeout(1000)
    expect([(await log(first)).loads, (await log(second)).loads]).toEqual([2, 2])
    expect((await stats(first)).reasons).toEqual([])
  })

  it('hands a page the update notices posted before it listened, once, and only those since it loaded', async () => {
    release(1, 'late')
    const page = await tab()
    await idle(page)
    suite.harness.origin.routes.set('/d/app.html', {
      body: '<!doctype html><title>release 1, edited</title><script src="/d/page.js"></script>',
      headers: { 'content-type': 'text/html' },
    })
    await page.evaluate(() => {
      ;(globalThis as unknown as PageGlobals).localStorage.late = '1'
    })
    await page.reload()
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).log?.updated.length)
    await page.waitForTimeout(300)
    expect((await log(page)).updated).toEqual(['/d/app.html'])
    // The next page did not exist when that notice was posted.
    await page.reload()
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).log)
    await idle(page)
    await page.waitForTimeout(300)
    expect((await log(page)).updated).toEqual([])
  })

  it('readCounters() rejects, saying what is missing, when the active worker does not count', async () => {
    release(1, 'silent', { counters: false })
    const page = await tab()
    const outcome = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).readCounters(false, 500).then(
        (counters) => `resolved ${JSON.stringify(counters)}`,
        (error: Error) => error.message,
      ),
    )
    expect(outcome).toBe(
      '[@taurobot/sw-cache] readCounters(): no service worker answered within 500 ms. The page needs an active worker that calls countRequests() at its top.',
    )
  })

  it('counts hits, misses, revalidations, coalesced requests, fallbacks and errors per cache', async () => {
    release(1, 'counted')
    const page = await tab()
    const origin = suite.harness.origin
    origin.routes.set('/d/runtime.txt', { body: 'runtime' })
    await page.evaluate(() => fetch('/d/runtime.txt'))
    await idle(page)
    expect(
      Object.keys(await page.evaluate(() => (globalThis as unknown as PageGlobals).readCounters(true))),
    ).toEqual(['app-counted'])
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).readCounters())).toEqual({})
    const before = { runtime: origin.hits('/d/runtime.txt'), errors: (await stats(page)).errors.length }
    origin.routes.set('/d/slow.txt', { body: 'slow', delayMs: 300 })
    origin.routes.set('/d/offline', { fail: true })

    // A hit on a revisioned file is answered as precached, without a revalidation.
    await page.evaluate(() => Promise.all([fetch('/d/runtime.txt'), fetch('/d/a.js')]))
    await idle(page)
    await page.evaluate(() => Promise.all([1, 2, 3].map(() => fetch('/d/slow.txt'))))
    await idle(page)
    const navigation = await (await suite.context()).newPage()
    await navigation.goto(origin.url('/d/offline'))
    expect(await navigation.content()).toContain('offline shell')
    await idle(page)

    const counted = await page.evaluate(() => (globalThis as unknown as PageGlobals).readCounters())
    expect(counted).toEqual({
      'app-counted': { hits: 2, misses: 4, revalidations: 1, coalesced: 2, fallbacks: 1, errors: 1 },
    })
    // What the origin and the worker's onError saw.
    const c = counted['app-counted']
    expect(origin.hits('/d/runtime.txt') - before.runtime).toBe(c?.revalidations)
    expect(origin.hits('/d/slow.txt')).toBe((c?.misses ?? 0) - 1 - (c?.coalesced ?? 0))
    expect((await stats(page)).errors.length - before.errors).toBe(c?.errors)
    expect(SHELL).toContain('offline shell')
  })
})
