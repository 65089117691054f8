import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HeldChat, startHeldChat } from './held-chat.js'

// A spoken reply in the web chat: the sentences are spoken while the model is still writing.
const POLL = { timeout: 60_000, interval: 100 }

// Three sentences in Markdown. The first piece ends inside the second sentence, so the first
// sentence is known to be complete while the rest of the reply is held back.
const REPLY = ['**Hello** there, friend. The ', 'second one has `code` in it. And the *third* one ends here.']

let chat: HeldChat
let bot: HeldChat['bot']
let page: Page
const release = () => chat.release()

beforeAll(async () => {
  chat = await startHeldChat(REPLY, { chromiumArgs: ['--autoplay-policy=no-user-gesture-required'] })
  ;({ bot, page } = chat)
  // Every clip that starts playing, in the order it starts.
  await page.addInitScript(() => {
    const played: string[] = []
    Object.assign(window, { played })
    document.addEventListener('play', (e) => played.push((e.target as HTMLAudioElement).src), true)
  })
})

afterAll(async () => {
  await chat?.close()
})

const assistant = () => page.locator('#messages .message[data-role="assistant"]').last()
const played = () => page.evaluate(() => (window as unknown as { played: string[] }).played)

describe('spoken replies in the web chat', () => {
  it('speaks a Markdown reply sentence by sentence, in order, while it streams', async () => {
    await page.goto(bot.url)
    await expect.poll(() => page.textContent('#status'), POLL).toBe('replies: ollama (qwen2.5:0.5b)')
    await page.click('#voice')
    await expect.poll(() => page.getAttribute('#voice', 'aria-pressed'), POLL).toBe('true')
    await page.fill('#text', 'talk to me')
    await page.press('#text', 'Enter')

    // The first sentence is spoken before the model has written the rest of the reply.
    await assistant().locator('audio').first().waitFor()
    expect(await assistant().locator('.content').textContent()).toBe('Hello there, friend. The')
    expect(await assistant().locator('audio').count()).toBe(1)
    await expect.poll(() => played().then((p) => p.length), POLL).toBe(1)

    release()
    await expect.poll(() => page.isDisabled('#send'), POLL).toBe(false)
    const content = assistant().locator('.content')
    expect(await content.locator('strong').textContent()).toBe('Hello')
    expect(await content.locator('code').textContent()).toBe('code')
    expect(await content.locator('em').textContent()).toBe('third')

    const sources = await assistant()
      .locator('audio')
      .evaluateAll((els) => els.map((el) => (el as HTMLAudioElement).src))
    expect(sources).toHaveLength(3)
    expect(new Set(sources).size).toBe(3)
    // Each clip starts only after the one before it has ended: all three, in the reply's order.
    await expect.poll(played, POLL).toEqual(sources)
    const ended = await assistant()
      .locator('audio')
      .evaluateAll((els) => els.map((el) => (el as HTMLAudioElement).ended))
    expect(ended.slice(0, 2)).toEqual([true, true])
  })
})
