import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchPersistentChromium } from '../../../test/chromium.js'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { sendMessage } from './web-chat.js'

// Waits for the page or the process, on a machine that may be busy.
const POLL = { timeout: 30_000, interval: 100 }

// The web chat end to end: the bot as `npm start` runs it, driven through Debian's Chromium.
let dir: string
let bot: BotProcess
let context: BrowserContext
let page: Page

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taurobot-e2e-'))
  bot = await startBotProcess({ MEMORY_DIR: join(dir, 'memory') })
  context = await launchPersistentChromium(join(dir, 'profile'), {
    extraArgs: ['--autoplay-policy=no-user-gesture-required'],
  })
  // Generous: the machines that run this suite are shared, and speech is slow on a busy one.
  context.setDefaultTimeout(60_000)
  page = context.pages()[0] ?? (await context.newPage())
})

afterAll(async () => {
  await context?.close()
  await bot?.stop()
  await rm(dir, { recursive: true, force: true })
})

const messages = (role: string) => page.locator(`#messages .message[data-role="${role}"] .content`)

const send = (text: string) => sendMessage(page, text)

describe('web chat in Chromium', () => {
  it('sends messages and shows the replies, rendering user text as text', async () => {
    await page.goto(bot.url)
    await expect.poll(() => page.textContent('#status'), POLL).toBe('replies: offline')
    await send('my name is Ada')
    expect(await messages('assistant').last().textContent()).toContain('Nice to meet you, Ada!')
    await send('<img src=x onerror="document.title=\'pwned\'"> what did I say?')
    const recall = await messages('assistant').last().textContent()
    expect(recall).toContain('You have sent me 1 message before this one')
    expect(recall).toContain('“my name is Ada”')
    expect(await messages('user').last().textContent()).toBe(
      '<img src=x onerror="document.title=\'pwned\'"> what did I say?',
    )
    expect(await page.locator('#messages img').count()).toBe(0)
    expect(await page.title()).toBe('TauroBot')
  })

  it('is an installable PWA: a valid manifest, icons and a service worker that answers offline', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready
    })
    const cdp = await context.newCDPSession(page)
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] }
    expect(manifest.url).toBe(new URL('/manifest.json', bot.url).href)
    expect(manifest.errors).toEqual([])
    const installability = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: unknown[]
    }
    expect(installability.installabilityErrors).toEqual([])
    await cdp.detach()
  })

  it('shows the stored conversation after a reload', async () => {
    await page.reload()
    await expect.poll(() => messages('user').count(), POLL).toBe(2)
    expect(await messages('user').allTextContents()).toEqual([
      'my name is Ada',
      '<img src=x onerror="document.title=\'pwned\'"> what did I say?',
    ])
    expect(await messages('assistant').count()).toBe(2)
  })

  it('speaks replies after /voice: the <audio> element gets a playable Ogg/Opus clip', async () => {
    await page.click('#voice')
    await expect.poll(() => page.getAttribute('#voice', 'aria-pressed'), POLL).toBe('true')
    await send('hello')
    const audio = page.locator('#messages .message[data-role="assistant"] audio').last()
    await audio.waitFor()
    const state = await audio.evaluate(async (el: HTMLAudioElement) => {
      if (el.readyState < HTMLMediaElement.HAVE_METADATA) {
        await new Promise((resolve, reject) => {
          el.addEventListener('loadedmetadata', resolve, { once: true })
          el.addEventListener('error', () => reject(new Error(`media error ${el.error?.code}`)), {
            once: true,
          })
        })
      }
      const response = await fetch(el.currentSrc)
      const bytes = new Uint8Array(await response.arrayBuffer())
      return {
        duration: el.duration,
        error: el.error?.code ?? null,
        canPlay: el.canPlayType('audio/ogg; codecs=opus'),
        type: response.headers.get('content-type'),
        magic: String.fromCharCode(...bytes.subarray(0, 4)),
        head: String.fromCharCode(...bytes.subarray(28, 36)),
      }
    })
    expect(state.error).toBeNull()
    expect(state.canPlay).not.toBe('')
    expect(state.type).toBe('audio/ogg')
    expect(state.magic).toBe('OggS')
    expect(state.head).toBe('OpusHead')
    expect(Number.isFinite(state.duration)).toBe(true)
    expect(state.duration).toBeGreaterThan(0.3)
  })

  it('precaches the shell by revision and shows no update banner while the release is the same', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready
    })
    await page.reload()
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    // Each shell file is cached with its content hash (the ETag the server sends) as revision, in
    // the header that stamps every stored copy, so a new release downloads only the files whose
    // hash changed.
    const revision = await page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('taurobot-')) ?? ''
      return (await (await caches.open(name)).match('/offline.html'))?.headers.get('sw-cache-stored-at')
    })
    const etag = (await fetch(new URL('/offline.html', bot.url))).headers.get('etag')
    expect(etag).toMatch(/^"/)
    expect(revision).toContain(etag)
    await page.reload()
    await page.waitForTimeout(500)
    expect(await page.locator('#update').count()).toBe(0)
  })

  it("shows the service worker's cache counters in the debug view and reports them to /metrics", async () => {
    await page.reload()
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    // Under a controlling worker the shell's files come from its cache: hits.
    await page.click('#debug summary')
    await expect.poll(() => page.textContent('#debug-counters'), POLL).toMatch(/^hits \d+ · misses \d+/)
    const shown = Number(/hits (\d+)/.exec((await page.textContent('#debug-counters')) ?? '')?.[1])
    expect(shown).toBeGreaterThan(0)
    const metrics = await (await fetch(new URL('/metrics', bot.url))).text()
    const reported = Number(/^taurobot_sw_cache_requests_total\{counter="hits"\} (\d+)$/m.exec(metrics)?.[1])
    // A report from the page before the reload may land later, never fewer.
    expect(reported).toBeGreaterThanOrEqual(shown)
  })

  it('loads the app shell from the service worker when the server is gone', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready
    })
    await page.reload()
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true)
    const cacheNames = await page.evaluate(() => caches.keys())
    expect(cacheNames.some((n) => /^taurobot-[0-9a-f]{12}$/.test(n))).toBe(true)

    const stopped = await bot.stop('SIGTERM')
    expect(stopped).toEqual({ code: 0, signal: null })
    expect(bot.output()).toContain('TauroBot stopped.')
    // Shut down cleanly: the conversation is in the snapshot, in the original bot's format.
    const saved = JSON.parse(await readFile(join(dir, 'memory', 'conversations.json'), 'utf8')) as {
      conversations: Record<string, { content: string }[]>
    }
    const [conversation] = Object.values(saved.conversations)
    expect(conversation?.map((m) => m.content).filter((c) => c === 'hello')).toEqual(['hello'])

    await page.reload()
    expect(await page.textContent('h1')).toBe('TauroBot')
    await expect.poll(() => page.textContent('#status'), POLL).toBe('server unreachable')
    expect(await page.textContent('#notice')).toMatch(
      /^You are offline: this is the conversation as of your last visit/,
    )
    // The conversation as the page last saw it, kept on the device.
    expect(await messages('user').allTextContents()).toEqual([
      'my name is Ada',
      '<img src=x onerror="document.title=\'pwned\'"> what did I say?',
      'hello',
    ])
    expect(await page.isDisabled('#send')).toBe(true)
    // The API is never answered from the cache: offline, it fails instead of returning HTML.
    const api = await page.evaluate(() =>
      fetch('/api/history?user=abcdefgh1').then(
        (r) => `status ${r.status}`,
        () => 'network error',
      ),
    )
    expect(api).toBe('network error')
    await page.goto(new URL('/not-cached', bot.url).href)
    expect(await page.textContent('h1')).toBe('You are offline')
  })

  it('restarted on the same port, the bot shows the conversation again', async () => {
    bot = await startBotProcess({ MEMORY_DIR: join(dir, 'memory'), PORT: String(bot.port) })
    await page.goto(bot.url)
    await expect.poll(() => page.textContent('#status'), POLL).toBe('replies: offline')
    expect(await messages('user').allTextContents()).toEqual([
      'my name is Ada',
      '<img src=x onerror="document.title=\'pwned\'"> what did I say?',
      'hello',
    ])
    await send('hello')
    expect(await messages('assistant').last().textContent()).toContain('Hello again, Ada!')
  })
})
