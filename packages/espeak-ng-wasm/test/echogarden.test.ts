// The same espeak-ng (1.52) with the same data as @echogarden/espeak-ng-emscripten: a fresh
// echogarden engine and this package produce the same number of samples for the same sentence and
// settings. (Fresh, because echogarden's espeak-ng carries state from one call to the next, which
// this package resets before every call.) Plain language voices only:
// echogarden's set_voice() selects a variant ("it+Marco") by voice properties, while this package
// uses espeak_ng_SetVoiceByName() as the espeak-ng command line does, so variants differ slightly.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPackage } from './helpers.js'

interface EchogardenWorker {
  set_voice(name: string, language: string): number
  set_rate(wordsPerMinute: number): void
  set_volume(volume: number): void
  set_pitch(pitch: number): void
  synthesize(text: string, onChunk: (samples: Int16Array | undefined) => boolean): void
}

type EchogardenFactory = (options: {
  print: (line: string) => void
  printErr: (line: string) => void
  getPreloadedPackage: (path: string, size: number) => ArrayBuffer
}) => Promise<{ eSpeakNGWorker: new () => EchogardenWorker }>

const packageName = '@echogarden/espeak-ng-emscripten'

async function loadEchogarden(): Promise<EchogardenWorker> {
  const require = createRequire(import.meta.url)
  const packageDir = dirname(require.resolve(`${packageName}/package.json`))
  const factory = (await import(packageName)).default as EchogardenFactory
  const data = readFileSync(join(packageDir, 'espeak-ng.data'))
  const module = await factory({
    print: () => {},
    printErr: () => {},
    getPreloadedPackage: () => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  })
  return new module.eSpeakNGWorker()
}

const sentences = [
  'Ciao! Come posso aiutarti oggi? Fammi sapere se ti serve altro.',
  'Il treno per Milano parte alle otto e un quarto dal binario tre.',
  'Grazie mille, a presto!',
  'Ho trovato tre ristoranti aperti vicino a te: vuoi che ti legga gli orari?',
]

const settings = [
  { voice: 'it', rate: 150, volume: 100, pitch: 50 },
  { voice: 'it', rate: 220, volume: 80, pitch: 40 },
  { voice: 'en-us', rate: 175, volume: 120, pitch: 60 },
]

describe('same output as @echogarden/espeak-ng-emscripten 0.3.5', () => {
  it('gives the same sample count for the same sentences and settings', async () => {
    const { loadEspeakNg } = await loadPackage()
    const ours = await loadEspeakNg()
    const oursCounts: number[] = []
    const theirsCounts: number[] = []
    for (const { voice, rate, volume, pitch } of settings) {
      ours.setVoice(voice)
      ours.setParameters({ rate, volume, pitch })
      for (const text of sentences) {
        oursCounts.push(ours.synthesize(text).samples.length)
        const theirs = await loadEchogarden()
        expect(theirs.set_voice('', voice)).toBe(0)
        theirs.set_rate(rate)
        theirs.set_volume(volume)
        theirs.set_pitch(pitch)
        let count = 0
        theirs.synthesize(text, (samples) => {
          count += samples?.length ?? 0
          return false
        })
        theirsCounts.push(count)
      }
    }
    expect(oursCounts.every((count) => count > 0)).toBe(true)
    expect(oursCounts).toEqual(theirsCounts)
  })
})
