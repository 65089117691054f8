import { beforeAll, describe, expect, it } from 'vitest'
import type { EspeakNg } from '../src/index.js'
import { italian, loadPackage, rms } from './helpers.js'

describe('synthesis', () => {
  let espeak: EspeakNg
  beforeAll(async () => {
    const { loadEspeakNg } = await loadPackage()
    espeak = await loadEspeakNg()
  })

  function speak(text: string, rate = 150, volume = 100, voice = 'it'): Int16Array {
    espeak.setVoice(voice)
    espeak.setParameters({ rate, volume, pitch: 50 })
    const result = espeak.synthesize(text)
    expect(result.stopped).toBe(false)
    return result.samples
  }

  it('speaks an Italian sentence: audible, of a plausible length, at 22050 Hz', () => {
    expect(espeak.sampleRate).toBe(22050)
    const samples = speak(italian)
    const seconds = samples.length / espeak.sampleRate
    expect(seconds).toBeGreaterThan(0.5)
    expect(seconds).toBeLessThan(10)
    expect(rms(samples)).toBeGreaterThan(500)
  })

  it('speaks faster at a higher rate', () => {
    const slow = speak(italian, 150)
    const fast = speak(italian, 300)
    expect(fast.length).toBeLessThan(slow.length * 0.75)
  })

  it('is (near) silent at volume 0', () => {
    const samples = speak(italian, 150, 0)
    expect(samples.length).toBeGreaterThan(0)
    expect(rms(samples)).toBeLessThan(5)
  })

  it('speaks with a voice variant (it+Marco), differently from the plain voice', () => {
    const plain = speak(italian)
    const marco = speak(italian, 150, 100, 'it+Marco')
    expect(rms(marco)).toBeGreaterThan(500)
    expect(Buffer.from(marco.buffer).equals(Buffer.from(plain.buffer))).toBe(false)
  })

  it('speaks other languages from the bundled data (en-us, de)', () => {
    expect(rms(speak('Hello, how can I help you today?', 150, 100, 'en-us'))).toBeGreaterThan(500)
    expect(rms(speak('Guten Tag, wie kann ich helfen?', 150, 100, 'de'))).toBeGreaterThan(500)
  })

  it('returns zero samples for an empty text', () => {
    const result = espeak.synthesize('')
    expect(result.samples.length).toBe(0)
    expect(result.stopped).toBe(false)
  })

  it('returns a copy the caller owns', () => {
    const first = speak(italian)
    const snapshot = first.slice()
    speak('Un altro testo, completamente diverso dal primo.')
    expect(first).toEqual(snapshot)
  })
})
