import { type Memory, memoryBackend, openMemory } from '@taurobot/memory'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { TauroBot } from '../src/core.js'
import { OfflineResponder } from '../src/responder/offline.js'

// Spoken replies through the real engine and the one shared pool.
let memory: Memory
let bot: TauroBot

beforeAll(async () => {
  memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
  bot = new TauroBot({
    memory,
    responder: new OfflineResponder(),
    voice: new VoiceSystem({ language: 'en' }),
    logError: () => {},
  })
})
afterAll(() => memory.close())

describe('voice replies', () => {
  it('are off by default and toggled per conversation by /voice', async () => {
    expect((await bot.handle(1, 'hi')).voice).toBeUndefined()
    expect((await bot.handle(1, '/voice')).text).toBe('Voice replies are on: I will also speak my answers.')
    expect(bot.isVoiceOn(1)).toBe(true)
    expect(bot.isVoiceOn(2)).toBe(false)
  })

  it('come as an Ogg/Opus clip of the reply without its bracketed note', async () => {
    const reply = await bot.handle(1, 'my name is Ada')
    expect(reply.voiceError).toBeUndefined()
    expect(reply.voice?.mimeType).toBe('audio/ogg')
    const info = checkOggOpus(reply.voice?.data ?? new Uint8Array())
    // "Nice to meet you, Ada! I will remember your name." is about two seconds of speech; the
    // bracketed offline note (another five) is not spoken.
    expect(info.durationMs).toBeGreaterThan(1000)
    expect(info.durationMs).toBeLessThan(5000)
    expect(Math.abs(info.durationMs - (reply.voice?.durationMs ?? 0))).toBeLessThan(40)
  })

  it('degrade to text with the reason when speech fails', async () => {
    await voicePool.close()
    const reply = await bot.handle(1, 'still there?')
    expect(reply.text).toContain('You said “still there?”')
    expect(reply.voice).toBeUndefined()
    expect(reply.voiceError).toMatch(/^\[@taurobot\/voice\] /)
    expect((await memory.history(1)).at(-1)?.content).toBe(reply.text)
  })
})
