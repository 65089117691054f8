import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ESPEAK_LANGUAGES } from '../src/espeak-voices.js'
import { mistakenLanguageEntries } from '../src/mistaken-languages.js'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool, speechText } = await loadVoice()
const engine = join(fixturesDir, 'fault-engine.mjs')

afterAll(async () => {
  await voicePool.close()
})

describe('unknown option names are a TypeError naming the option and the one probably meant', () => {
  it.each([
    [{ lang: 'it' }, 'unknown option "lang" of new VoiceSystem(): did you mean language?'],
    [{ langauge: 'it' }, 'unknown option "langauge" of new VoiceSystem(): did you mean language?'],
    [{ speed: 1.2 }, 'unknown option "speed" of new VoiceSystem(): did you mean rate?'],
    // Two neighbouring letters swapped count as one typo.
    [{ emjoi: 'name' }, 'unknown option "emjoi" of new VoiceSystem(): did you mean emoji?'],
    [{ rate: 150, colour: 'red' }, 'unknown option "colour" of new VoiceSystem(): known options: language,'],
  ])('new VoiceSystem(%o)', (options, message) => {
    expect(() => new VoiceSystem(options as never)).toThrow(TypeError)
    expect(() => new VoiceSystem(options as never)).toThrow(message)
  })

  it('per call: synthesize(), textToSpeech() and warmup(), before anything is queued', async () => {
    const voice = new VoiceSystem({ engine, language: 'xx' })
    const before = voicePool.stats()
    await expect(voice.synthesize('hi', { fromat: 'wav' } as never)).rejects.toThrow(
      new TypeError('unknown option "fromat" of synthesize(): did you mean format?'),
    )
    await expect(voice.textToSpeech('hi', 'reply.ogg', { timeout: 5 } as never)).rejects.toThrow(
      new TypeError('unknown option "timeout" of textToSpeech(): did you mean timeoutMs?'),
    )
    await expect(voice.warmup({ allthreads: true } as never)).rejects.toThrow(
      new TypeError('unknown option "allthreads" of warmup(): did you mean allThreads?'),
    )
    await expect(voice.synthesize('hi', null as never)).rejects.toThrow(TypeError)
    expect(voicePool.stats()).toMatchObject({ queued: before.queued, completed: before.completed })
  })

  it('voicePool.configure() rejects an unknown option and keeps its settings', () => {
    const before = voicePool.stats().maxThreads
    expect(() => voicePool.configure({ threads: before + 1 } as never)).toThrow(
      new TypeError('unknown option "threads" of voicePool.configure(): did you mean maxThreads?'),
    )
    expect(() => voicePool.configure({ maxQueue: 10, idleTimout: 5 } as never)).toThrow(
      'did you mean idleTimeout?',
    )
    expect(voicePool.stats().maxThreads).toBe(before)
  })
})

describe('languages are codes or BCP 47 tags, mapped to espeak-ng voices', () => {
  it.each([
    ['it-IT', 'it'],
    ['de-DE', 'de'],
    ['es-ES', 'es'],
    ['en-US', 'en-us'],
    ['pt-BR', 'pt-br'],
    ['en_GB', 'en-gb'],
    ['fr-CA', 'fr'],
    ['es-AR', 'es-419'],
    ['zh-Hans-CN', 'zh'],
    ['zh-HK', 'yue'],
    ['sr-Latn-RS', 'sr'],
  ])('%s speaks as %s', (tag, code) => {
    expect(new VoiceSystem({ language: tag }).settings.language).toBe(code)
    const voice = new VoiceSystem()
    voice.setLanguage(tag)
    expect(voice.settings.language).toBe(code)
  })

  it.each([
    ['itt', 'did you mean "it"?'],
    ['itl-IT', 'did you mean "it"?'],
    ['dee', 'did you mean "de"?'],
  ])('an unknown %s is a RangeError suggesting the closest code (%s)', (tag, hint) => {
    expect(() => new VoiceSystem({ language: tag })).toThrow(RangeError)
    expect(() => new VoiceSystem({ language: tag })).toThrow(`got "${tag}": ${hint}`)
  })

  it.each([
    ['gr', 'did you mean "el" (Greek)?'],
    ['ua', 'did you mean "uk" (Ukrainian)?'],
    ['cz-CZ', 'did you mean "cs" (Czech)?'],
    ['jp', 'did you mean "ja" (Japanese)?'],
    ['cn', 'did you mean "zh" (Chinese)?'],
    ['dk', 'did you mean "da" (Danish)?'],
    ['english', 'did you mean "en" (English)?'],
    ['Italian', 'did you mean "it" (Italian)?'],
    // Real languages espeak-ng lacks, whose code is more often written for a country's language.
    ['kr', '(Kanuri), which espeak-ng has no voice for: did you mean "ko" (Korean)?'],
    ['se', '(Northern Sami), which espeak-ng has no voice for: did you mean "sv" (Swedish)?'],
  ])('%s, a country code or a language name, suggests the language meant, not a look-alike', (tag, hint) => {
    expect(() => new VoiceSystem({ language: tag })).toThrow(RangeError)
    expect(() => new VoiceSystem({ language: tag })).toThrow(
      `got "${tag}"${hint.startsWith('(') ? ' ' : ': '}${hint}`,
    )
    expect(() => speechText('ciao', { language: tag })).toThrow(hint)
  })

  it('every mistaken code points to a language espeak-ng has, and is not one itself', () => {
    for (const [mistake, code] of mistakenLanguageEntries()) {
      expect(ESPEAK_LANGUAGES, mistake).toContain(code)
      expect(ESPEAK_LANGUAGES, mistake).not.toContain(mistake)
    }
  })

  it('a three-letter code of a language espeak-ng has is that language', () => {
    expect(new VoiceSystem({ language: 'deu' }).settings.language).toBe('de')
  })

  it('a custom engine gets the language exactly as given', () => {
    expect(new VoiceSystem({ engine, language: 'it-IT' }).settings.language).toBe('it-IT')
  })
})
