// The README's first example, as written there, in Chromium: the page that registers it must be
// controlled without a reload, so that what it fetches is cached and answered offline.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium } from '../../../../test/chromium.js'
import { type Origin, startOrigin } from '../origin.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
// The first block of the Example section.
const example = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''

let origin: Origin
let browser: Browser

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: example, loader: 'ts', resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
    alias: { '@taurobot/sw-cache': fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    minify: true,
    write: false,
  })
  origin = await startOrigin()
  origin.routes.set('/sw.js', {
    headers: { 'content-type': 'text/javascript' },
    body: bundle.outputFiles[0]?.text ?? '',
  })
  for (const path of ['/', '/index.html'])
    origin.routes.set(path, {
      headers: { 'content-type': 'text/html' },
      body: '<!doctype html><title>app</title>',
    })
  origin.routes.set('/manifest.json', { headers: { 'content-type': 'application/json' }, body: '{}' })
  origin.routes.set('/data.txt', { body: 'data 1' })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await origin?.close()
})

it('controls the page that registered it, which then reads from the cache offline without a reload', async () => {
  expect(example).toContain("precache('taurobot-v2'")
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(origin.url('/'))
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw.js')
      await navigator.serviceWorker.ready
    })
    await expect
      .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 10_000 })
      .toBe(true)
    const read = () => page.evaluate(() => fetch('/data.txt').then((response) => response.text()))
    expect(await read()).toBe('data 1')
    await expect
      .poll(() => page.evaluate(async () => (await caches.match('/data.txt'))?.text()), { timeout: 10_000 })
      .toBe('data 1')
    origin.routes.set('/data.txt', { fail: true })
    expect(await read()).toBe('data 1')
  } finally {
    await context.close()
  }
})
