import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EspeakNg } from '../src/index.js'
import { distDir, italian, loadPackage, rms } from './helpers.js'

const { EspeakNgError, loadEspeakNg } = await loadPackage()

describe('voice names', () => {
  let espeak: EspeakNg
  beforeAll(async () => {
    espeak = await loadEspeakNg()
  })

  function failure(name: string): Error {
    try {
      espeak.setVoice(name)
    } catch (error) {
      return error as Error
    }
    throw new Error(`setVoice(${JSON.stringify(name)}) was accepted`)
  }

  it.each([
    ['mb-it1', 'MBROLA voices'],
    ['Marco', 'put a language before it, as in "it+Marco"'],
    ['it+nope', 'there is no voice variant "nope"'],
    ['itt', 'Did you mean "it"?'],
    ['it+Marko', 'Did you mean "Marco"?'],
  ])('rejects %s before espeak-ng sees it, saying %s', (name, hint) => {
    const error = failure(name)
    expect(error).toBeInstanceOf(EspeakNgError)
    expect(error).toMatchObject({ code: 'unknown-voice', messages: [] })
    expect(error.message).toContain(`"${name}"`)
    expect(error.message).toContain(hint)
  })

  it('keeps the previous voice after a rejected name', () => {
    espeak.setVoice('it')
    espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
    const before = espeak.synthesize(italian).samples
    failure('it+nope')
    const after = espeak.synthesize(italian).samples
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true)
  })

  it('accepts names in any case and by their path in the data, speaking as the canonical name', () => {
    espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
    espeak.setVoice('it+Marco')
    const marco = espeak.synthesize(italian).samples
    expect(rms(marco)).toBeGreaterThan(500)
    for (const name of ['IT+marco', 'roa/it+Marco']) {
      espeak.setVoice(name)
      expect(Buffer.from(espeak.synthesize(italian).samples.buffer).equals(Buffer.from(marco.buffer))).toBe(
        true,
      )
    }
  })
})

describe('voice files', () => {
  let dataPath: string
  beforeAll(() => {
    // A data directory with Italian, English and one more language file, whose "name" is "it".
    dataPath = mkdtempSync(join(tmpdir(), 'espeak-ng-voices-'))
    const from = join(distDir, 'espeak-ng-data')
    const to = join(dataPath, 'espeak-ng-data')
    for (const file of ['phontab', 'phonindex', 'phondata', 'intonations', 'it_dict', 'en_dict']) {
      cpSync(join(from, file), join(to, file))
    }
    cpSync(join(from, 'lang', 'roa', 'it'), join(to, 'lang', 'roa', 'it'))
    cpSync(join(from, 'lang', 'gmw', 'en'), join(to, 'lang', 'gmw', 'en'))
    mkdirSync(join(to, 'lang', 'zz'))
    writeFileSync(join(to, 'lang', 'zz', 'other'), 'name it\nlanguage en\n')
  })
  afterAll(() => {
    rmSync(dataPath, { recursive: true, force: true })
  })

  it("loads a language from its own file, not from another voice file that shares the language's name", async () => {
    const bundled = await loadEspeakNg()
    const copy = await loadEspeakNg({ dataPath })
    for (const espeak of [bundled, copy]) {
      espeak.setVoice('it')
      espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
    }
    const expected = bundled.synthesize(italian).samples
    const spoken = copy.synthesize(italian).samples
    expect(Buffer.from(spoken.buffer).equals(Buffer.from(expected.buffer))).toBe(true)
  })
})

describe('option names', () => {
  it('setParameters() and loadEspeakNg() reject a name they do not take, with the one meant', async () => {
    const espeak = await loadEspeakNg()
    expect(() => espeak.setParameters({ speed: 200, volume: 100, pitch: 50 } as never)).toThrow(
      new TypeError('[@taurobot/espeak-ng-wasm] setParameters() has no option "speed": did you mean rate?'),
    )
    expect(() => espeak.setParameters({ rate: 200, volume: 100, pitch: 50, pich: 1 } as never)).toThrow(
      'did you mean pitch?',
    )
    await expect(loadEspeakNg({ dataPth: '/x' } as never)).rejects.toThrow(
      new TypeError(
        '[@taurobot/espeak-ng-wasm] loadEspeakNg() has no option "dataPth": did you mean dataPath?',
      ),
    )
  })
})
