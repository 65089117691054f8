import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { chatOverApi } from './web-chat.js'

// Waits for the page or the process, on a machine that may be busy.
const POLL = { timeout: 30_000, interval: 100 }

// With REDIS_URL the bot keeps its conversations in Redis (the real server CI starts), under a
// key prefix of its own.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `taurobot:bot-test:${randomUUID()}:`
const redis = new Redis(url, { lazyConnect: true })
let bot: BotProcess | undefined

afterAll(async () => {
  await bot?.stop()
  await redis.connect().catch(() => {})
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

const chat = (text: string) => chatOverApi(bot?.url, 'redis-user-01', text)

describe('Redis memory', () => {
  it('keeps conversations in Redis across a restart', async () => {
    const env = { REDIS_URL: url, REDIS_KEY_PREFIX: prefix }
    bot = await startBotProcess(env)
    await expect.poll(() => bot?.output(), POLL).toContain(`conversations: Redis at ${url}`)
    expect((await chat('my name is Carla')).reply).toContain('Nice to meet you, Carla!')
    expect(await bot.stop()).toEqual({ code: 0, signal: null })
    await redis.connect()
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0)

    bot = await startBotProcess(env)
    expect((await chat('hello')).reply).toContain('Hello again, Carla!')
  })
})
