import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
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
    // The store exists now: no hint about the other format.
    expect(bot.output()).not.toContain('npx @taurobot/memory migrate')
  })

  it('switched to SQLite beside a conversations.json, says at start how to migrate it', async () => {
    await bot?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = await mkdtemp(join(tmpdir(), 'taurobot-bot-sqlite-'))
    const json = join(dir, 'conversations.json')
    await writeFile(
      json,
      JSON.stringify({ '7': [{ role: 'user', content: 'hi', timestamp: '2026-01-01T00:00:00Z' }] }),
    )
    bot = await startBotProcess({ MEMORY_DIR: dir, MEMORY_BACKEND: 'sqlite' })
    await expect
      .poll(() => bot?.output(), POLL)
      .toContain(
        `to move them over, stop the bot and run: npx @taurobot/memory migrate ${json} ${join(dir, 'conversations.db')}`,
      )
  })
})
