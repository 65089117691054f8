import { beforeAll, describe, expect, it } from 'vitest'
import type { EspeakNg } from '../src/index.js'
import { italian, loadPackage, rms } from './helpers.js'

const { EspeakNgError, loadEspeakNg } = await loadPackage()

describe('failures', () => {
  let espeak: EspeakNg
  beforeAll(async () => {
    espeak = await loadEspeakNg()
    espeak.setVoice('it')
    espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
  })

  it('rejects an unknown voice with unknown-voice, naming it, and keeps working with the previous voice', () => {
    let error: unknown
    try {
      espeak.setVoice('xx-nonexistent')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(EspeakNgError)
    expect(error).toMatchObject({ code: 'unknown-voice', status: 0x100006ff })
    expect((error as Error).message).toContain('"xx-nonexistent"')
    expect((error as Error).message).toContain('Pick one espeak-ng knows')
    const { samples } = espeak.synthesize(italian)
    expect(samples.length / espeak.sampleRate).toBeGreaterThan(0.5)
    expect(rms(samples)).toBeGreaterThan(500)
  })

  it.each([
    [{ rate: Number.NaN, volume: 100, pitch: 50 }, 'rate'],
    [{ rate: 79, volume: 100, pitch: 50 }, 'rate'],
    [{ rate: 451, volume: 100, pitch: 50 }, 'rate'],
    [{ rate: 150, volume: -1, pitch: 50 }, 'volume'],
    [{ rate: 150, volume: 201, pitch: 50 }, 'volume'],
    [{ rate: 150, volume: 100, pitch: 100 }, 'pitch'],
    [{ rate: 150, volume: 100, pitch: Number.POSITIVE_INFINITY }, 'pitch'],
  ])('rejects %o with a RangeError naming %s', (parameters, field) => {
    expect(() => espeak.setParameters(parameters)).toThrow(RangeError)
    expect(() => espeak.setParameters(parameters)).toThrow(
      new RegExp(`^\\[@taurobot/espeak-ng-wasm\\] ${field} must be`),
    )
  })

  it('rejects a data path without espeak-ng-data, naming the path', async () => {
    const attempt = loadEspeakNg({ dataPath: '/nonexistent/espeak' })
    await expect(attempt).rejects.toBeInstanceOf(EspeakNgError)
    await expect(attempt).rejects.toMatchObject({ code: 'init-failed' })
    await expect(attempt).rejects.toThrow('/nonexistent/espeak/espeak-ng-data')
  })

  it('rejects a WebAssembly module that is not espeak-ng with init-failed', async () => {
    // The smallest valid module: magic number and version, no imports or exports.
    const empty = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
    await expect(loadEspeakNg({ wasmModule: empty })).rejects.toMatchObject({ code: 'init-failed' })
  })
})

describe('shouldStop', () => {
  let espeak: EspeakNg
  beforeAll(async () => {
    espeak = await loadEspeakNg()
    espeak.setVoice('it')
    espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
  })

  it('stops on the first chunk: stopped is true and only that chunk is returned', () => {
    const full = espeak.synthesize(italian)
    let calls = 0
    const stopped = espeak.synthesize(italian, {
      shouldStop: () => {
        calls += 1
        return true
      },
    })
    expect(calls).toBe(1)
    expect(stopped.stopped).toBe(true)
    expect(stopped.samples.length).toBeGreaterThan(0)
    expect(stopped.samples.length).toBeLessThan(full.samples.length / 4)
  })

  it('is asked once per chunk when it never stops, and the next synthesis after a stop is complete', () => {
    let calls = 0
    const result = espeak.synthesize(italian, {
      shouldStop: () => {
        calls += 1
        return false
      },
    })
    expect(result.stopped).toBe(false)
    expect(calls).toBeGreaterThan(5)
    espeak.synthesize(italian, { shouldStop: () => true })
    const after = espeak.synthesize(italian)
    expect(after.stopped).toBe(false)
    // espeak-ng varies the length by a few samples from one call to the next; a stop would cut it by 90%.
    expect(Math.abs(after.samples.length - result.samples.length)).toBeLessThan(espeak.sampleRate / 10)
  })

  it('rethrows what shouldStop throws and stays usable', () => {
    const failure = new Error('stop here')
    expect(() =>
      espeak.synthesize(italian, {
        shouldStop: () => {
          throw failure
        },
      }),
    ).toThrow(failure)
    expect(rms(espeak.synthesize(italian).samples)).toBeGreaterThan(500)
  })
})
