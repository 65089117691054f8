import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { type FakeOllama, fakeOllama } from './fake-ollama.js'
import { chatOverApi } from './web-chat.js'

// The bot as `npm start` runs it with OLLAMA_HOST set. There is no model server in CI, so the
// Ollama protocol is served locally (see fake-ollama.ts); what is under test is the wiring and
// the switch to offline replies when the server goes away.
let dir: string | undefined
let bot: BotProcess | undefined
let ollama: FakeOllama | undefined

afterAll(async () => {
  await bot?.stop()
  await ollama?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const chat = (text: string) => chatOverApi(bot?.url, 'ollama-user-01', text)

describe('replies from Ollama', () => {
  it('come from the model while it answers, with memory as context, then offline', async () => {
    dir = await mkdtemp(join(tmpdir(), 'taurobot-ollama-'))
    const server = await fakeOllama(['qwen2.5:0.5b'], (body) => [
      `I see ${body.messages.filter((m) => m.role === 'user').length} messages from you.`,
    ])
    ollama = server
    bot = await startBotProcess({
      MEMORY_DIR: dir,
      OLLAMA_HOST: server.url.href,
      OLLAMA_MODEL: 'qwen2.5:0.5b',
      CONTEXT_MESSAGES: '3',
    })
    expect(bot.output()).toContain('replies: Ollama at http://127.0.0.1:')
    expect(bot.output()).toMatch(/ {2}replies: {7}ollama \(qwen2\.5:0\.5b\)\n/)
    expect((await chat('one')).reply).toBe('I see 1 messages from you.')
    expect((await chat('two')).reply).toBe('I see 2 messages from you.')
    // CONTEXT_MESSAGES=3: user, assistant, user.
    expect((await chat('three')).reply).toBe('I see 2 messages from you.')
    const sent = server.requests.filter((r) => r.path === '/api/chat').at(-1)?.body as {
      model: string
      messages: { role: string; content: string }[]
    }
    expect(sent.model).toBe('qwen2.5:0.5b')
    expect(sent.messages.map((m) => m.content).slice(1)).toEqual([
      'two',
      'I see 2 messages from you.',
      'three',
    ])

    await server.close()
    ollama = undefined
    const offline = await chat('are you there?')
    expect(offline.reply).toMatch(/^\[offline mode/)
    expect(offline.reply).toContain('You said “are you there?”')
    await expect
      .poll(() => bot?.output(), { timeout: 30_000 })
      .toMatch(/replies: offline responder \(Ollama at http:\/\/127\.0\.0\.1:\d+ unavailable/)
  })
})
