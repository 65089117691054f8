import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
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

  it('a three-letter code of a language espeak-ng has is that language', () => {
    expect(new VoiceSystem({ language: 'deu' }).settings.language).toBe('de')
  })

  it('a custom engine gets the language exactly as given', () => {
    expect(new VoiceSystem({ engine, language: 'it-IT' }).settings.language).toBe('it-IT')
  })
})
