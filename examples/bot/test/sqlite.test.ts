import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { chatOverApi } from './web-chat.js'

// Waits for the page or the process, on a machine that may be busy.
const POLL = { timeout: 30_000, interval: 100 }

let bot: BotProcess | undefined
let dir: string | undefined

afterAll(async () => {
  await bot?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

const chat = (text: string) => chatOverApi(bot?.url, 'sqlite-user-01', text)

describe('SQLite memory (MEMORY_BACKEND=sqlite)', () => {
  it('keeps conversations in memory/conversations.db across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'taurobot-bot-sqlite-'))
    const env = { MEMORY_DIR: dir, MEMORY_BACKEND: 'sqlite' }
    bot = await startBotProcess(env)
    const db = join(dir, 'conversations.db')
    await expect.poll(() => bot?.output(), POLL).toContain(`conversations: ${db}`)
    expect((await chat('my name is Carla')).reply).toContain('Nice to meet you, Carla!')
    expect(await bot.stop()).toEqual({ code: 0, signal: null })
    expect(existsSync(db)).toBe(true)
    expect(existsSync(join(dir, 'conversations.json'))).toBe(false)

    bot = await startBotProcess(env)
    expect((await chat('hello')).reply).toContain('Hello again, Carla!')
  })
})
