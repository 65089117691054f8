import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 2 })

afterAll(async () => {
  await voicePool.close()
})

const sentence = 'Ciao! Come posso aiutarti oggi? Fammi sapere se ti serve altro.'

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

describe.each(['espeak-ng-wasm', 'espeak-ng'] as const)('the %s engine gives the same bytes', (engine) => {
  it('for the same text and settings, interleaved with other texts and settings, on every thread', async () => {
    const voice = new VoiceSystem({ engine, language: 'it' })
    const other = new VoiceSystem({ engine, language: 'en-us', voice: 'f3', rate: 300, pitch: 80 })
    await voice.warmup({ allThreads: true })
    const wav: Promise<string>[] = []
    const ogg: Promise<string>[] = []
    const rest: Promise<unknown>[] = []
    for (let round = 0; round < 6; round++) {
      wav.push(voice.synthesize(sentence, { format: 'wav' }).then((audio) => sha256(audio.data)))
      rest.push(other.synthesize(`Sentence number ${round}, said quickly.`, { format: 'wav' }))
      ogg.push(voice.synthesize(sentence).then((audio) => sha256(audio.data)))
      rest.push(voice.synthesize(`Un'altra frase, la numero ${round}.`))
    }
    const [wavHashes, oggHashes] = await Promise.all([Promise.all(wav), Promise.all(ogg), Promise.all(rest)])
    expect(voicePool.stats().threads).toBe(2)
    expect(new Set(wavHashes).size).toBe(1)
    expect(new Set(oggHashes).size).toBe(1)
    // WebAssembly computes bit for bit the same everywhere, so the default engine's audio is fixed:
    // a changed hash means the audio changed. (The system binary's depends on its version.)
    if (engine === 'espeak-ng-wasm') expect(wavHashes[0]).toBe(goldenWav)
  })
})

const goldenWav = '99f8f8c6f75b74902d46bc4bdaeb4a7778a2101891cd10ee8201456c5d5b9110'
