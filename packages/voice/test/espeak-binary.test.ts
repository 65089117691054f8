// The second engine: a system espeak-ng binary, one process per task.
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { loadVoice, parseWav, rms } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const installed = spawnSync('espeak-ng', ['--version']).status === 0
// One thread, so that "the same thread" is observable through the engine load count.
voicePool.configure({ maxThreads: 1 })

afterAll(async () => {
  await voicePool.close()
})

describe.skipIf(!installed)('engine "espeak-ng" (system binary)', () => {
  const sentence = 'Il sistema operativo parla italiano senza rete.'

  it('produces non-silent WAV and valid Ogg/Opus', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 150 })
    const wav = await voice.synthesize(sentence, { format: 'wav' })
    const parsed = parseWav(wav.data)
    expect(parsed.sampleRate).toBe(22050)
    expect(rms(parsed.samples)).toBeGreaterThan(500)
    expect(wav.durationMs).toBeGreaterThan(1500)
    expect(wav.durationMs).toBeLessThan(8000)
    const ogg = await voice.synthesize(sentence)
    const checked = checkOggOpus(ogg.data)
    expect(
      Math.abs((Number(checked.finalGranule) - checked.head.preSkip) / 48 - ogg.durationMs),
    ).toBeLessThanOrEqual(20)
  })

  it('maps rate, volume and voice like the WASM engine', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 100 })
    const slow = await voice.synthesize(sentence, { format: 'wav' })
    voice.setRate(300)
    const fast = await voice.synthesize(sentence, { format: 'wav' })
    expect(fast.durationMs).toBeLessThan(slow.durationMs * 0.6)
    voice.setVolume(0)
    expect(rms(parseWav((await voice.synthesize(sentence, { format: 'wav' })).data).samples)).toBe(0)
    voice.setVolume(1)
    voice.setVoice('f3')
    expect(rms(parseWav((await voice.synthesize(sentence, { format: 'wav' })).data).samples)).toBeGreaterThan(
      500,
    )
  })

  it('passes text through stdin, never as an option', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'en' })
    const audio = await voice.synthesize('--version -w /tmp/owned.wav', { format: 'wav' })
    expect(parseWav(audio.data).samples.length).toBeGreaterThan(10_000)
  })

  it('speaks the words after a NUL character (espeak-ng reads a C string)', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'en' })
    const spoken = async (text: string) =>
      parseWav((await voice.synthesize(text, { format: 'wav', input: 'text' })).data).samples.length
    expect(await spoken('Hello\0 world, how are you today?')).toBe(
      await spoken('Hello  world, how are you today?'),
    )
  })

  it('cancelling a running task kills the espeak-ng process and keeps the thread', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', maxChars: 100_000 })
    await voice.synthesize('pronto')
    const before = voicePool.stats()
    const controller = new AbortController()
    const long = voice.synthesize(`${sentence} `.repeat(400), { signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 150))
    controller.abort(new Error('enough'))
    await expect(long).rejects.toThrow('enough')
    await voice.synthesize('ancora')
    const after = voicePool.stats()
    expect(after.engineInitMs.count).toBe(before.engineInitMs.count)
    expect(after.threads).toBe(before.threads)
  })
})
