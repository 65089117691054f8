import { type Memory, memoryBackend, openMemory } from '@taurobot/memory'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { type SpokenClip, spokenText, TauroBot } from '../src/core.js'
import { OfflineResponder } from '../src/responder/offline.js'
import type { Responder } from '../src/responder/responder.js'

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

  it('come sentence by sentence to a front end that streams, saying what spokenText says', async () => {
    const clips: SpokenClip[] = []
    const reply = await bot.handle(1, 'my name is Ada', { onClip: (clip) => clips.push(clip) })
    expect(reply.voice).toBeUndefined()
    expect(reply.voiceError).toBeUndefined()
    expect(clips.map((c) => c.text)).toEqual(['Nice to meet you, Ada!', 'I will remember your name.'])
    expect(clips.map((c) => c.text).join(' ')).toBe(spokenText(reply.text))
    for (const clip of clips) expect(checkOggOpus(clip.data).durationMs).toBeGreaterThan(300)
  })

  it('drop the note and stop at the length cap when the reply streams in pieces', async () => {
    const text = `[a note for the reader]\n${Array.from({ length: 40 }, (_, i) => `Sentence ${i + 1} is here.`).join(' ')}`
    // A responder that writes its reply a few characters at a time, as a model does.
    const writer: Responder = {
      name: 'writer',
      contextMessages: 1,
      async reply({ onChunk }) {
        for (let i = 0; i < text.length; i += 7) onChunk?.(text.slice(i, i + 7))
        return text
      },
    }
    const streaming = new TauroBot({ memory, responder: writer, voice: new VoiceSystem({ language: 'en' }) })
    streaming.setVoice(3, true)
    const clips: SpokenClip[] = []
    const reply = await streaming.handle(3, 'talk', { onClip: (clip) => clips.push(clip) })
    const spoken = clips.map((c) => c.text).join(' ')
    expect(clips[0]?.text).toBe('Sentence 1 is here.')
    expect(spoken).toBe(spokenText(reply.text))
    expect(spoken.length).toBeLessThanOrEqual(600)
    expect(spoken.length).toBeGreaterThan(500)
  }, 120_000)

  it('degrade to text with the reason when speech fails', async () => {
    await voicePool.close()
    const reply = await bot.handle(1, 'still there?')
    expect(reply.text).toContain('You said “still there?”')
    expect(reply.voice).toBeUndefined()
    expect(reply.voiceError).toMatch(/^\[@taurobot\/voice\] /)
    expect((await memory.history(1)).at(-1)?.content).toBe(reply.text)
  })
})
