import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { type ApiCall, type FakeTelegram, startFakeTelegram } from './fake-telegram.js'

// Waits for the page or the process, on a machine that may be busy.
const POLL = { timeout: 30_000, interval: 100 }

// The Telegram front end, as `npm start` runs it with TELEGRAM_BOT_TOKEN set, against a Bot API
// server on 127.0.0.1 (TELEGRAM_API_ROOT): real grammY, real HTTP, real multipart uploads.
let dir: string
let telegram: FakeTelegram
let bot: BotProcess | undefined
const CHAT = 424242

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taurobot-telegram-'))
  telegram = await startFakeTelegram()
})
afterAll(async () => {
  await bot?.stop()
  await telegram?.close()
  await rm(dir, { recursive: true, force: true })
})

function start(): Promise<BotProcess> {
  return startBotProcess({
    MEMORY_DIR: join(dir, 'memory'),
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
  })
}

/** Sends a text as the user and waits for the bot's next call of `method` to that chat. */
async function say(text: string, method = 'sendMessage', chat = CHAT): Promise<ApiCall> {
  const since = telegram.calls.length
  telegram.sendText(chat, text)
  return telegram.waitFor((c) => c.method === method && c.params.chat_id === String(chat), since)
}

describe('Telegram front end', () => {
  it('starts with getMe and registers its commands', async () => {
    bot = await start()
    await expect.poll(() => bot?.output(), POLL).toContain('telegram:      @taurobot_test_bot')
    expect(telegram.calls[0]?.method).toBe('getMe')
    const commands = await telegram.waitFor((c) => c.method === 'setMyCommands')
    expect(
      (JSON.parse(commands.params.commands ?? '[]') as { command: string }[]).map((c) => c.command),
    ).toEqual(['start', 'help', 'clear', 'stats', 'voice'])
  })

  it('answers /start and a text message with sendMessage', async () => {
    expect((await say('/start')).params.text).toMatch(/^Hi! I am TauroBot\./)
    const reply = await say('my name is Bruno')
    expect(reply.params.text).toContain('[offline mode')
    expect(reply.params.text).toContain('Nice to meet you, Bruno!')
  })

  it('after /voice, sends each reply as an Ogg/Opus voice note too', async () => {
    expect((await say('/voice')).params.text).toBe('Voice replies are on: I will also speak my answers.')
    const since = telegram.calls.length
    const voice = await say('hello', 'sendVoice')
    const text = telegram.calls.slice(since).find((c) => c.method === 'sendMessage')
    expect(text?.params.text).toContain('Hello again, Bruno!')
    const file = voice.files.voice
    expect(file).toBeDefined()
    if (file === undefined) return
    expect(file.name).toBe('reply.ogg')
    const info = checkOggOpus(file.data)
    expect(info.head.channels).toBe(1)
    expect(info.durationMs).toBeGreaterThan(300)
    expect(Number(voice.params.duration)).toBe(Math.max(1, Math.round(info.durationMs / 1000)))
    // opus-tools' own validator, where it is installed (CI installs it).
    if (spawnSync('opusinfo', ['-h']).error === undefined) {
      const path = join(dir, 'voice.ogg')
      await writeFile(path, file.data)
      const check = spawnSync('opusinfo', [path], { encoding: 'utf8' })
      expect(check.status).toBe(0)
      expect(check.stdout + check.stderr).not.toMatch(/WARNING|ERROR/i)
    }
  })

  it('keeps the conversation across a restart of the bot process', async () => {
    const stopped = await bot?.stop('SIGTERM')
    expect(stopped).toEqual({ code: 0, signal: null })
    bot = await start()
    const recall = await say('what did I say?')
    expect(recall.params.text).toContain('You have sent me 2 messages before this one')
    expect(recall.params.text).toContain('“my name is Bruno”')
    expect(recall.params.text).toContain('“hello”')
  })

  it('answers /help, /stats and /clear like the original bot', async () => {
    expect((await say('/help')).params.text).toMatch(/^Commands:\n\/start - introduction\n\/help/)
    expect((await say('/stats')).params.text).toMatch(/^This conversation: 6 stored messages since \d{4}-/)
    expect((await say('/clear')).params.text).toBe('Done: I have forgotten this conversation.')
    expect((await say('/stats')).params.text).toMatch(/^This conversation: 0 stored messages\./)
  })

  it("sends a reply's Markdown as Telegram HTML, and commands' answers as plain text", async () => {
    // A chat of its own: the conversation above keeps its counts.
    const reply = await say('note **this** & <b>that</b>', 'sendMessage', CHAT + 1)
    expect(reply.params.parse_mode).toBe('HTML')
    expect(reply.params.text).toContain('You said “note <b>this</b> &amp; &lt;b&gt;that&lt;/b&gt;”.')
    const help = await say('/help', 'sendMessage', CHAT + 1)
    expect(help.params.parse_mode).toBeUndefined()
    expect(help.params.text).toMatch(/^Commands:/)
  })
})
