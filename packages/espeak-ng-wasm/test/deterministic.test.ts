import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { EspeakNg } from '../src/index.js'
import { italian, loadPackage } from './helpers.js'

const { loadEspeakNg } = await loadPackage()

function sha256(samples: Int16Array): string {
  return createHash('sha256').update(samples).digest('hex')
}

function speak(espeak: EspeakNg, text: string, voice = 'it', rate = 150, pitch = 50): string {
  espeak.setVoice(voice)
  espeak.setParameters({ rate, volume: 100, pitch })
  return sha256(espeak.synthesize(text).samples)
}

describe('deterministic audio', () => {
  it('gives the same samples for the same text and settings, whatever was spoken in between', async () => {
    const espeak = await loadEspeakNg()
    const first = speak(espeak, italian)
    const again: string[] = []
    for (let round = 0; round < 6; round++) {
      speak(espeak, `Un'altra frase, la numero ${round}. Va bene?`)
      speak(espeak, 'Hello there, how are you?', round % 2 === 0 ? 'en-us' : 'it+Marco', 300, 80)
      espeak.synthesize('Interrotta a metà.', { shouldStop: () => true })
      again.push(speak(espeak, italian))
      // The same settings set again without a voice change in between.
      espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
      again.push(sha256(espeak.synthesize(italian).samples))
    }
    expect(again).toEqual(Array(again.length).fill(first))
  })

  it('gives the same samples on two separate engines', async () => {
    const [one, two] = await Promise.all([loadEspeakNg(), loadEspeakNg()])
    speak(two, 'Prima qualcosa di diverso.', 'de', 200, 30)
    expect(speak(two, italian)).toBe(speak(one, italian))
  })

  // WebAssembly arithmetic is specified bit for bit and espeak-ng calls no JavaScript maths, so the
  // samples are the same on every Node.js version; a changed hash means the audio changed.
  it('matches the recorded hash of an Italian sentence (golden audio)', async () => {
    const espeak = await loadEspeakNg()
    expect(speak(espeak, italian)).toBe(GOLDEN_ITALIAN)
  })
})

const GOLDEN_ITALIAN = 'fcbcd123dd952c8109ec02ac6b968f532801c71b4cfd0ddf23b69b254cbfdc59'
