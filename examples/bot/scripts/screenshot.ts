// Takes docs/screenshot-chat.png: the bot started as `npm start` runs it, a short conversation
// with a spoken reply, in Debian's Chromium. Run: `npx tsx scripts/screenshot.ts` (from examples/bot).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchPersistentChromium } from '../../../test/chromium.js'
import { startBotProcess } from '../test/bot-process.js'
import { sendMessage } from '../test/web-chat.js'

const output = fileURLToPath(new URL('../../../docs/screenshot-chat.png', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'taurobot-screenshot-'))
const bot = await startBotProcess({ MEMORY_DIR: join(dir, 'memory') })
const context = await launchPersistentChromium(join(dir, 'profile'), {
  viewport: { width: 560, height: 860 },
  deviceScaleFactor: 1,
})
try {
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(bot.url)
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'replies: offline')
  const send = (text: string) => sendMessage(page, text)
  await send('Hi! My name is Ada.')
  await send('I am planning a trip to Palermo in May.')
  await page.click('#voice')
  await page.waitForFunction(() => document.getElementById('voice')?.getAttribute('aria-pressed') === 'true')
  await send('What did I tell you?')
  await page
    .locator('audio')
    .last()
    .evaluate(
      (el: HTMLAudioElement) =>
        new Promise((resolve) =>
          el.readyState >= 1 ? resolve(null) : el.addEventListener('loadedmetadata', resolve),
        ),
    )
  await page.fill('#text', 'Thanks, that is right!')
  await page.screenshot({ path: output })
  console.log(`screenshot written to ${output}`)
} finally {
  await context.close()
  await bot.stop()
  await rm(dir, { recursive: true, force: true })
}
