import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HeldChat, startHeldChat } from './held-chat.js'

// The web chat with a model that writes Markdown (the Ollama protocol served locally, see
// fake-ollama.ts), driven through Debian's Chromium: what a reply renders as, and the composer.
const POLL = { timeout: 30_000, interval: 100 }

// Streamed in pieces that split the marks, as a model's tokens do.
const REPLY = [
  '**Ciao!** Run `npm start` and read [the docs](https://example.com/docs',
  ').\n\n<script>document.title="pwned"</script> <img src=x onerror="document.title=\'pwned\'">',
  ' &lt;b&gt; is *not **bold** here*.\n\n[bad](javascript:document.title="pwned") ',
  '[data](data:text/html,<script>alert(1)</script>)\n\n```html\n<b onmouseover="x()">code</b>\n```\n\n- one\n- two',
]

// The first reply is held after its first piece until the test has seen it rendered.
let chat: HeldChat
let bot: HeldChat['bot']
let page: Page
const release = () => chat.release()

beforeAll(async () => {
  chat = await startHeldChat(REPLY)
  ;({ bot, page } = chat)
})

afterAll(async () => {
  await chat?.close()
})

const reply = () => page.locator('#messages .message[data-role="assistant"] .content').last()

/** What the last reply rendered as: its elements and text, for the checks below. */
function rendered() {
  return reply().evaluate((el) => ({
    text: el.textContent ?? '',
    tags: [...el.querySelectorAll('*')].map((e) => e.localName),
    strong: [...el.querySelectorAll('strong')].map((e) => e.textContent),
    em: [...el.querySelectorAll('em')].map((e) => e.innerHTML),
    code: [...el.querySelectorAll('p code')].map((e) => e.textContent),
    pre: el.querySelector('pre code')?.textContent,
    items: [...el.querySelectorAll('ul > li')].map((e) => e.textContent),
    links: [...el.querySelectorAll('a')].map((a) => ({
      href: a.getAttribute('href'),
      rel: a.rel,
      target: a.target,
      text: a.textContent,
    })),
    attributes: [...el.querySelectorAll('*')].flatMap((e) => e.getAttributeNames()),
  }))
}

describe('the web chat with a model that writes Markdown', () => {
  it('renders the reply as Markdown, with raw HTML and unsafe links inert', async () => {
    await page.goto(bot.url)
    await expect.poll(() => page.textContent('#status'), POLL).toBe('replies: ollama (qwen2.5:0.5b)')
    await page.fill('#text', 'hello')
    await page.press('#text', 'Enter')
    // While the reply streams, what has come so far is already rendered as Markdown.
    await reply().locator('strong').waitFor()
    expect(await page.isDisabled('#send')).toBe(true)
    expect(await reply().textContent()).toBe(
      'Ciao! Run npm start and read [the docs](https://example.com/docs',
    )
    release()
    await expect.poll(() => page.isDisabled('#send'), POLL).toBe(false)
    await expect.poll(() => page.locator('#messages .message[data-role="assistant"]').count(), POLL).toBe(1)

    const shown = await rendered()
    expect(shown.strong).toEqual(['Ciao!', 'bold'])
    expect(shown.em).toEqual(['not <strong>bold</strong> here'])
    expect(shown.code).toEqual(['npm start'])
    expect(shown.links).toEqual([
      { href: 'https://example.com/docs', rel: 'noopener noreferrer', target: '_blank', text: 'the docs' },
    ])
    expect(shown.items).toEqual(['one', 'two'])
    expect(shown.pre).toBe('<b onmouseover="x()">code</b>')
    // No Markdown marks left, and the HTML is shown as the text the model wrote.
    expect(shown.text).not.toContain('**')
    expect(shown.text).not.toContain('`')
    expect(shown.text).toContain('<script>document.title="pwned"</script> <img src=x onerror=')
    expect(shown.text).toContain('<b> is not bold here.')
    expect(shown.text).toContain('bad data')
    expect(new Set(shown.tags)).toEqual(new Set(['p', 'strong', 'code', 'a', 'em', 'pre', 'ul', 'li']))
    expect(new Set(shown.attributes)).toEqual(new Set(['href', 'rel', 'target', 'data-language']))
    expect(await page.locator('#messages script, #messages img, #messages b').count()).toBe(0)
    expect(await page.title()).toBe('TauroBot')
  })

  it('renders the stored reply the same way after a reload', async () => {
    const before = await rendered()
    await page.reload()
    await expect.poll(() => page.locator('#messages .message[data-role="assistant"]').count(), POLL).toBe(1)
    expect(await rendered()).toEqual(before)
  })

  it('grows the composer with its text from one line to six; Enter sends, Shift+Enter breaks the line', async () => {
    const box = () =>
      page.evaluate(() => {
        const input = document.getElementById('text') as HTMLTextAreaElement
        const style = getComputedStyle(input)
        return {
          height: input.getBoundingClientRect().height,
          line: Number.parseFloat(style.lineHeight),
          overflow: style.overflowY,
          value: input.value,
        }
      })
    await page.fill('#text', '')
    const one = await box()
    await page.click('#text')
    await page.keyboard.type('first')
    for (const word of ['second', 'third']) {
      await page.keyboard.press('Shift+Enter')
      await page.keyboard.type(word)
    }
    const three = await box()
    expect(three.value).toBe('first\nsecond\nthird')
    // Within a pixel or two: heights are rounded to whole pixels.
    expect(Math.abs(three.height - one.height - 2 * one.line)).toBeLessThan(2)
    expect(three.overflow).toBe('hidden')
    for (let n = 4; n <= 10; n++) {
      await page.keyboard.press('Shift+Enter')
      await page.keyboard.type(`line ${n}`)
    }
    const ten = await box()
    expect(Math.abs(ten.height - one.height - 5 * one.line)).toBeLessThan(2)
    expect(ten.overflow).toBe('auto')
    // Nothing was sent by Shift+Enter; Enter sends and the composer is one line again.
    expect(await page.locator('#messages .message[data-role="user"]').count()).toBe(1)
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('#messages .message[data-role="user"]').count(), POLL).toBe(2)
    expect(await box()).toEqual({ ...one, value: '' })
  })
})
