// Real-browser harness: Debian Chromium driven by playwright-core, a fixture site served from
// 127.0.0.1 by the test origin, and the fixture service worker bundled from the package source in
// either build users get.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { launchChromium } from '../../../../test/chromium.js'
import { type Origin, startOrigin } from '../origin.js'
import type { FixtureConfig, FixtureStats } from './fixture-sw.js'

export const SHELL = '<!doctype html><title>shell</title><p id="shell">offline shell</p>'

export interface Harness {
  origin: Origin
  /** The fixture worker's code, to serve releases of it under a fixed URL. */
  code: string
  browser: Browser
  close(): Promise<void>
}

/**
 * - `development`: bundled without defining `process.env.NODE_ENV`, so the worker reads a `process`
 *   that service workers do not have: the option checks and long messages must still work.
 * - `production`: what `esbuild --bundle --minify` makes of it for the browser, which defines
 *   `process.env.NODE_ENV` as "production" by itself.
 */
export type Build = 'development' | 'production'

export async function startHarness(kind: Build): Promise<Harness> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./fixture-sw.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
    ...(kind === 'production' ? { platform: 'browser', minify: true } : { platform: 'neutral' }),
  })
  const code = bundle.outputFiles[0]?.text ?? ''
  expect(code.includes('process.env.NODE_ENV')).toBe(kind === 'development')
  const origin = await startOrigin()
  origin.routes.set('/sw.js', {
    headers: { 'content-type': 'text/javascript' },
    body: code,
  })
  origin.routes.set('/', {
    headers: { 'content-type': 'text/html' },
    body: '<!doctype html><title>home</title>',
  })
  origin.routes.set('/index.html', { headers: { 'content-type': 'text/html' }, body: SHELL })
  const browser = await launchChromium()
  return {
    origin,
    code,
    browser,
    close: async () => {
      await browser.close()
      await origin.close()
    },
  }
}

/** The browser side of a `describe` block: its harness, and the context and page of the test running. */
export interface Suite {
  /** Started before the block's first test, closed after its last. */
  readonly harness: Harness
  /** The page `open()` gave the test running. */
  readonly page: Page
  /** A page of a fresh context, controlled by the fixture worker with `config`. */
  open(config?: FixtureConfig): Promise<Page>
  /** A fresh context for the test running (the same one on every call in one test). */
  context(): Promise<BrowserContext>
}

/**
 * Starts the harness for the `describe` block it is called in, and stops it after the block. After
 * each test it closes the test's context; when the test used `open()`, it first waits until that
 * worker is idle and checks that it saw no unhandled rejection.
 */
export function useHarness(kind: Build): Suite {
  let harness: Harness | undefined
  let context: BrowserContext | undefined
  let page: Page | undefined
  const started = () => {
    if (!harness) throw new Error('the harness starts in beforeAll: use it inside a test')
    return harness
  }
  beforeAll(async () => {
    harness = await startHarness(kind)
  })
  afterAll(() => harness?.close())
  afterEach(async () => {
    if (page) expect((await idle(page)).reasons).toEqual([])
    await context?.close()
    context = page = undefined
  })
  return {
    get harness() {
      return started()
    },
    get page() {
      if (!page) throw new Error('call open() first')
      return page
    },
    async open(config = {}) {
      ;({ context, page } = await controlledPage(started(), config))
      return page
    },
    async context() {
      context ??= await started().browser.newContext()
      return context
    },
  }
}

/** A fresh context (its own caches and registrations) with a page controlled by the fixture worker. */
export async function controlledPage(
  harness: Harness,
  config: FixtureConfig = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await harness.browser.newContext()
  const page = await context.newPage()
  await page.goto(harness.origin.url('/'))
  await register(page, config)
  return { context, page }
}

/** Registers (or updates to) the fixture worker with `config` and waits until it controls the page. */
export async function register(page: Page, config: FixtureConfig): Promise<void> {
  await page.evaluate(async (json) => {
    const previous = navigator.serviceWorker.controller
    const changed = new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
    )
    await navigator.serviceWorker.register(`/sw.js?config=${encodeURIComponent(json)}`)
    if (!previous) await navigator.serviceWorker.ready
    if (navigator.serviceWorker.controller === previous) await changed
  }, JSON.stringify(config))
}

/** fetch() from the page; a rejection comes back as `{ error }`. */
export function get(page: Page, path: string) {
  return page.evaluate(async (p) => {
    try {
      const response = await fetch(p)
      return { status: response.status, body: await response.text(), error: undefined }
    } catch (error) {
      return { status: 0, body: '', error: String(error) }
    }
  }, path)
}

/** `count` concurrent fetches of `path` from the page, their bodies in order. */
export function burst(page: Page, path: string, count: number): Promise<string[]> {
  return page.evaluate(
    ({ p, n }) => Promise.all(Array.from({ length: n }, () => fetch(p).then((r) => r.text()))),
    { p: path, n: count },
  )
}

export async function stats(page: Page): Promise<FixtureStats> {
  return JSON.parse((await get(page, '/__stats')).body)
}

/** Waits until the worker has no background work left. */
export async function idle(page: Page): Promise<FixtureStats> {
  await expect.poll(async () => (await stats(page)).pending, { timeout: 10_000, interval: 50 }).toBe(0)
  return stats(page)
}

/** Body of `path` in cache `cacheName`, as the page's Cache API sees it. */
export function cached(page: Page, cacheName: string, path: string): Promise<string | undefined> {
  return page.evaluate(async ({ name, p }) => (await (await caches.open(name)).match(p))?.text(), {
    name: cacheName,
    p: path,
  })
}

/** Paths of the entries of `cacheName`, oldest first. */
export function cachedPaths(page: Page, cacheName: string): Promise<string[]> {
  return page.evaluate(
    async (name) => (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname),
    cacheName,
  )
}
