import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnBotProcess, startBotProcess } from './bot-process.js'
import { startFakeTelegram } from './fake-telegram.js'

// The Telegram front end when the Bot API fails: refused, hanging, or dropping connections.
// grammY's errors carry the request URL, and the token is part of that URL.
const TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghij'
const SECRET = TOKEN.split(':')[1] ?? TOKEN
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taurobot-telegram-failures-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('Telegram failures', () => {
  it('an unreachable Bot API ends start-up after STARTUP_TIMEOUT_SECONDS with a clear message, never printing the token', async () => {
    const root = `http://127.0.0.1:${await closedPort()}`
    const bot = spawnBotProcess({
      MEMORY_DIR: join(dir, 'unreachable'),
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: root,
      STARTUP_TIMEOUT_SECONDS: '2',
    })
    expect(await bot.exited).toEqual({ code: 1, signal: null })
    const output = bot.output()
    expect(output).toContain(
      `Cannot start TauroBot: start-up took longer than 2 s (STARTUP_TIMEOUT_SECONDS), waiting for Telegram's Bot API at ${root} to answer getMe: check the network and TELEGRAM_API_ROOT`,
    )
    // The cause is shown, with the request URL, but the token in it is not.
    expect(output).toContain(`${root}/bot***/getMe`)
    expect(output).not.toContain(SECRET)
  })

  it('one SIGTERM while getMe hangs stops the start-up and exits with code 0', async () => {
    const telegram = await startFakeTelegram({ fail: (method) => (method === 'getMe' ? 'hang' : undefined) })
    try {
      const bot = spawnBotProcess({
        MEMORY_DIR: join(dir, 'hanging'),
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        STARTUP_TIMEOUT_SECONDS: '3600',
      })
      await telegram.waitFor((call) => call.method === 'getMe')
      bot.child.kill('SIGTERM')
      expect(await bot.exited).toEqual({ code: 0, signal: null })
      expect(bot.output()).toContain('SIGTERM: stopping')
      expect(bot.output()).toContain('TauroBot stopped before it was ready.')
      expect(bot.output()).not.toContain(SECRET)
    } finally {
      await telegram.close()
    }
  })

  it('network failures once running are logged without the token', async () => {
    const telegram = await startFakeTelegram({
      fail: (method) => (method === 'setMyCommands' || method === 'sendMessage' ? 'reset' : undefined),
    })
    const bot = await startBotProcess({
      MEMORY_DIR: join(dir, 'resetting'),
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    })
    try {
      const since = telegram.calls.length
      telegram.sendText(4242, 'hello')
      await telegram.waitFor((call) => call.method === 'sendMessage', since)
      await expect
        .poll(() => bot.output(), { timeout: 30_000, interval: 100 })
        .toMatch(/Telegram update \d+ failed:/)
      const output = bot.output()
      expect(output).toContain('setMyCommands failed (the commands still work):')
      expect(output).toContain(`${telegram.apiRoot}/bot***/sendMessage`)
      expect(output).not.toContain(SECRET)
    } finally {
      await bot.stop()
      await telegram.close()
    }
  })

  it('a reply whose formatting Telegram refuses is sent again as plain text', async () => {
    const telegram = await startFakeTelegram({
      fail: (method, params) =>
        method === 'sendMessage' && params.parse_mode === 'HTML' ? 'bad-entities' : undefined,
    })
    const bot = await startBotProcess({
      MEMORY_DIR: join(dir, 'entities'),
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    })
    try {
      const since = telegram.calls.length
      telegram.sendText(4243, 'say **this** & <that>')
      const plain = await telegram.waitFor(
        (c) => c.method === 'sendMessage' && c.params.parse_mode === undefined,
        since,
      )
      const refused = telegram.calls.slice(since).find((c) => c.params.parse_mode === 'HTML')
      expect(refused?.params.text).toContain('<b>this</b> &amp; &lt;that&gt;')
      // What the user sees: the text without its marks, not the Markdown's asterisks.
      expect(plain.params.text).toContain('You said “say this & <that>”.')
      expect(bot.output()).not.toMatch(/Telegram update \d+ failed/)
    } finally {
      await bot.stop()
      await telegram.close()
    }
  })
})
