// The default engine loads espeak-ng from @taurobot/espeak-ng-wasm (WebAssembly) when installed and
// from @echogarden/espeak-ng-emscripten (wasm2js) otherwise; both are the same espeak-ng with the
// same data, so they must produce the same audio for the same text and options.
import { describe, expect, it } from 'vitest'
import type { EngineCancellation, EngineSpeechOptions } from '../src/engine.js'
import { EngineCancelledError } from '../src/engine.js'
import { EspeakNgWasmEngine } from '../src/engines/espeak-ng-wasm.js'

const italian: EngineSpeechOptions = { language: 'it', rate: 150, volume: 1, voice: undefined, pitch: 50 }
const notCancelled: EngineCancellation = { cancelled: false }
const sentence = 'Ciao! Oggi il tempo è bello e possiamo andare a fare una passeggiata nel parco.'

async function engineFrom(packages?: ConstructorParameters<typeof EspeakNgWasmEngine>[0]) {
  const engine = new EspeakNgWasmEngine(packages)
  await engine.init()
  return engine
}

function rms(samples: Int16Array): number {
  let sum = 0
  for (const s of samples) sum += s * s
  return Math.sqrt(sum / Math.max(1, samples.length))
}

describe('the espeak-ng builds of the default engine', () => {
  it('prefers the WebAssembly build, which needs fewer warm-up runs', async () => {
    const engine = await engineFrom()
    expect(engine.loadedFrom).toBe('@taurobot/espeak-ng-wasm')
    expect(engine.warmupRuns).toBeLessThan(8)
    const audio = engine.synthesize(sentence, italian, notCancelled)
    expect(audio.sampleRate).toBe(22050)
    expect(audio.samples.length / audio.sampleRate).toBeGreaterThan(2)
    expect(rms(audio.samples)).toBeGreaterThan(500)
  })

  it('falls back to the wasm2js build, and both give the same samples', async () => {
    const wasm = await engineFrom()
    // Plain voices only: the two builds select a variant (it+Marco) by different calls, which
    // differ by a fraction of a percent in length.
    for (const options of [italian, { ...italian, rate: 220, volume: 0.5, pitch: 70 }]) {
      // A fresh wasm2js engine each time: it carries espeak-ng's state from one call to the next,
      // while the WebAssembly build starts every call from the state its voice was loaded in.
      const js = await engineFrom({ packages: ['@echogarden/espeak-ng-emscripten'] })
      expect(js.loadedFrom).toBe('@echogarden/espeak-ng-emscripten')
      const a = wasm.synthesize(sentence, options, notCancelled)
      const b = js.synthesize(sentence, options, notCancelled)
      expect(a.sampleRate).toBe(b.sampleRate)
      expect(a.samples.length).toBe(b.samples.length)
      expect(Buffer.from(a.samples.buffer).equals(Buffer.from(b.samples.buffer))).toBe(true)
    }
  })

  it.each([['@taurobot/espeak-ng-wasm'], ['@echogarden/espeak-ng-emscripten']] as const)(
    '%s: an unknown language is a VoiceError naming it, and the engine keeps working',
    async (from) => {
      const engine = await engineFrom({ packages: [from] })
      expect(() => engine.synthesize('ciao', { ...italian, language: 'zz' }, notCancelled)).toThrow(
        expect.objectContaining({
          name: 'VoiceError',
          code: 'engine-failed',
          message: expect.stringContaining('"zz"'),
        }),
      )
      expect(engine.synthesize('ciao', italian, notCancelled).samples.length).toBeGreaterThan(0)
    },
  )

  it.each([['@taurobot/espeak-ng-wasm'], ['@echogarden/espeak-ng-emscripten']] as const)(
    '%s: a cancellation stops between chunks and keeps the engine warm',
    async (from) => {
      const engine = await engineFrom({ packages: [from] })
      let checks = 0
      const cancellation = {
        get cancelled() {
          checks += 1
          return checks > 1
        },
      }
      expect(() => engine.synthesize(sentence.repeat(20), italian, cancellation)).toThrow(
        EngineCancelledError,
      )
      // Stopped after its second chunk, not at the end of a long text.
      expect(checks).toBeLessThan(5)
      expect(engine.synthesize('ciao', italian, notCancelled).samples.length).toBeGreaterThan(0)
    },
  )
})
