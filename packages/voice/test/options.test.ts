import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, VoiceError, voicePool, speechText } = await loadVoice()
const scratch = mkdtempSync(join(tmpdir(), 'voice-options-'))
const engine = join(fixturesDir, 'fault-engine.mjs')

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('options are validated up front, naming the option and the value', () => {
  it.each([
    [{ rate: Number.NaN }, RangeError, 'rate must be a positive number of words per minute, got NaN'],
    [{ rate: -10 }, RangeError, 'rate must be a positive number of words per minute, got -10'],
    [{ rate: 0 }, RangeError, 'got 0'],
    // A wrong type is a TypeError, a right type out of range a RangeError.
    [{ rate: '150' }, TypeError, 'rate must be a positive number of words per minute, got "150"'],
    [{ volume: '1' }, TypeError, 'volume must be a number from 0 to 1, got "1"'],
    [{ pitch: '50' }, TypeError, 'pitch must be a number from 0 to 100, got "50"'],
    [{ maxChars: '100' }, TypeError, 'maxChars must be a positive integer, got "100"'],
    [{ emoji: 1 }, TypeError, 'emoji must be "drop" or "name", got 1'],
    [{ volume: Number.NaN }, RangeError, 'volume must be a number from 0 to 1, got NaN'],
    [{ volume: -0.1 }, RangeError, 'volume must be a number from 0 to 1, got -0.1'],
    [{ volume: 1.5 }, RangeError, 'got 1.5'],
    [{ pitch: 101 }, RangeError, 'pitch must be a number from 0 to 100, got 101'],
    [{ language: 'xx' }, RangeError, 'language must be a language espeak-ng knows'],
    [{ language: '' }, TypeError, 'language must be a non-empty string'],
    [{ language: 42 }, TypeError, 'got 42'],
    [
      { voice: 'nobody' },
      RangeError,
      'voice must be an espeak-ng voice variant (e.g. "f3", "m1", "whisper"), got "nobody"',
    ],
    [{ maxChars: 0 }, RangeError, 'maxChars must be a positive integer, got 0'],
    [{ engine: '' }, TypeError, 'engine must be'],
    [
      { engine: 'festival' },
      RangeError,
      'engine must be one of the built-in engines "espeak-ng-wasm" or "espeak-ng", or the absolute path or file: URL of a module exporting createEngine()',
    ],
    [{ engine: 'espeak_ng' }, RangeError, 'got "espeak_ng": did you mean "espeak-ng"?'],
    [{ engine: './my-engine.js' }, RangeError, 'got "./my-engine.js"'],
    [{ engine: 'my-engine.js' }, RangeError, "path.resolve('my-engine.js')"],
  ])('new VoiceSystem(%o) throws', (options, type, message) => {
    expect(() => new VoiceSystem(options as never)).toThrow(type)
    expect(() => new VoiceSystem(options as never)).toThrow(message)
  })

  it.each([
    [[], 'an array'],
    [['it'], 'an array'],
    [null, 'null'],
    ['it', '"it"'],
  ])('options %o are refused, an array like any other non-object', async (options, got) => {
    const message = `options must be an object, got ${got}`
    expect(() => new VoiceSystem(options as never)).toThrow(new TypeError(`VoiceSystem ${message}`))
    expect(() => speechText('ciao', options as never)).toThrow(new TypeError(`speechText ${message}`))
    expect(() => voicePool.configure(options as never)).toThrow(
      new TypeError(`voicePool.configure() ${message}`),
    )
    const voice = new VoiceSystem({ engine, language: 'xx' })
    await expect(voice.warmup(options as never)).rejects.toThrow(new TypeError(`warmup() ${message}`))
  })

  it('accepts every documented form of engine: a built-in name, an absolute path, a file: URL', () => {
    for (const form of ['espeak-ng-wasm', 'espeak-ng', engine, pathToFileURL(engine).href]) {
      expect(new VoiceSystem({ engine: form, language: 'it' })).toBeInstanceOf(VoiceSystem)
    }
  })

  it('maps retired language codes to their replacement, and names a language espeak-ng lacks', () => {
    expect(new VoiceSystem({ language: 'iw' }).settings.language).toBe('he')
    expect(new VoiceSystem({ language: 'iw-IL' }).settings.language).toBe('he')
    expect(new VoiceSystem({ language: 'in' }).settings.language).toBe('id')
    expect(new VoiceSystem({ language: 'mo' }).settings.language).toBe('ro')
    expect(new VoiceSystem({ language: 'ita' }).settings.language).toBe('it')
    // Filipino is not Finnish misspelt, nor Yiddish Interlingua: no spelling suggestion for them.
    expect(() => new VoiceSystem({ language: 'fil' })).toThrow(
      new RangeError(
        'language must be a language espeak-ng knows (e.g. "it", "it-IT", "en-us"; 150 in all), got "fil" (Filipino), which espeak-ng has no voice for',
      ),
    )
    expect(() => new VoiceSystem({ language: 'ji' })).toThrow(
      'got "ji" (Yiddish), which espeak-ng has no voice for',
    )
    // A typo still gets the nearest code.
    expect(() => new VoiceSystem({ language: 'itl-IT' })).toThrow('got "itl-IT": did you mean "it"?')
  })

  it('rejects an unknown language or voice before anything is queued', () => {
    const before = voicePool.stats()
    const voice = new VoiceSystem({ language: 'it' })
    expect(() => voice.setLanguage('klingon')).toThrow('got "klingon"')
    expect(() => voice.setVoice('nobody')).toThrow(RangeError)
    expect(voicePool.stats()).toMatchObject({
      queued: before.queued,
      completed: before.completed,
      threads: before.threads,
    })
  })

  it('accepts language and voice in any case, and clamps the rate to the engine range', async () => {
    const voice = new VoiceSystem({ language: 'EN-US', voice: 'F3', rate: 10_000 })
    expect(voice.settings).toMatchObject({ language: 'en-us', voice: 'f3', rate: 10_000 })
    const fastest = await voice.synthesize('one two three four five six', { format: 'wav' })
    voice.setRate(450)
    const at450 = await voice.synthesize('one two three four five six', { format: 'wav' })
    // 10 000 wpm is spoken at espeak-ng's maximum of 450 wpm, not rejected.
    expect(Math.abs(fastest.durationMs - at450.durationMs)).toBeLessThan(at450.durationMs * 0.2)
  })

  it('setters validate like the constructor', () => {
    const voice = new VoiceSystem()
    expect(() => voice.setRate(Number.NaN)).toThrow(RangeError)
    expect(() => voice.setRate('180' as never)).toThrow(TypeError)
    expect(() => voice.setVolume(2)).toThrow('volume must be a number from 0 to 1, got 2')
    expect(() => voice.setPitch(-1)).toThrow(RangeError)
    voice.setRate(180)
    voice.setVolume(0.8)
    voice.setPitch(70)
    expect(voice.settings).toMatchObject({ rate: 180, volume: 0.8, pitch: 70, language: 'en' })
  })
})

describe('bad input to synthesize() and textToSpeech()', () => {
  const voice = new VoiceSystem({ engine, language: 'xx', maxChars: 20 })

  it.each([
    ['', RangeError, 'text must contain something to say, got an empty string'],
    ['   \n', RangeError, 'got an empty string'],
    [42, TypeError, 'text must be a string, got number'],
    [undefined, TypeError, 'text must be a string, got undefined'],
    ['x'.repeat(21), RangeError, 'text must be at most maxChars (20) characters, got 21'],
  ])('text %j is rejected', async (text, type, message) => {
    const error = await voice.synthesize(text as string).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(type)
    expect((error as Error).message).toContain(message)
  })

  it('rejects an unknown format, a bad signal and a bad timeout', async () => {
    await expect(voice.synthesize('hi', { format: 'mp3' as never })).rejects.toThrow(
      'format must be "ogg" or "wav", got "mp3"',
    )
    await expect(voice.synthesize('hi', { signal: {} as never })).rejects.toThrow(TypeError)
    await expect(voice.synthesize('hi', { timeoutMs: -1 })).rejects.toThrow(
      'timeoutMs must be a positive number of milliseconds, got -1',
    )
  })

  it('textToSpeech takes the format from the extension, or rejects an unknown one', async () => {
    await expect(voice.textToSpeech('hi', join(scratch, 'a.mp3'))).rejects.toThrow(
      /outputPath must end in \.ogg, \.oga, \.opus or \.wav .*a\.mp3/,
    )
    await expect(voice.textToSpeech('hi', '')).rejects.toThrow(TypeError)
    const written = await voice.textToSpeech('hi', join(scratch, 'deep', 'er', 'b.opus'))
    expect(written).toBe(join(scratch, 'deep', 'er', 'b.opus'))
    // An explicit format wins over the extension.
    await expect(voice.textToSpeech('hi', join(scratch, 'c.bin'), { format: 'wav' })).resolves.toMatch(
      /c\.bin$/,
    )
  })

  it('an unwritable output path is a VoiceError("io") naming the path and the cause', async () => {
    const file = join(scratch, 'not-a-directory')
    writeFileSync(file, 'x')
    const target = join(file, 'reply.ogg')
    const error = await voice.textToSpeech('hi', target).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(VoiceError)
    const voiceError = error as InstanceType<typeof VoiceError>
    expect(voiceError.code).toBe('io')
    expect(voiceError.message).toContain(target)
    expect(voiceError.details.code).toMatch(/ENOTDIR|EEXIST/)
    expect(voiceError.cause).toBeInstanceOf(Error)
  })
})

describe('voicePool.stats()', () => {
  it('reports threads, queue, counters, utilization, latency percentiles and engine load time', async () => {
    const voice = new VoiceSystem({ engine, language: 'xx' })
    await voice.warmup()
    await Promise.all(Array.from({ length: 8 }, () => voice.synthesize('fine')))
    const stats = voicePool.stats()
    expect(stats.threads).toBeGreaterThan(0)
    expect(stats.threads).toBeLessThanOrEqual(stats.maxThreads)
    expect(stats.completed).toBeGreaterThanOrEqual(9)
    expect(stats.utilization).toBeGreaterThan(0)
    expect(stats.utilization).toBeLessThanOrEqual(1)
    for (const summary of [stats.runTime, stats.waitTime]) {
      expect(summary.count).toBeGreaterThanOrEqual(9)
      expect(summary.p50).toBeLessThanOrEqual(summary.p99)
      expect(summary.p99).toBeLessThanOrEqual(summary.max)
    }
    expect(stats.engineInitMs.count).toBeGreaterThan(0)
    expect(stats.engineInitMs.last).toBeGreaterThanOrEqual(0)
  })

  it('validates pool options', () => {
    expect(() => voicePool.configure({ maxQueue: -1 })).toThrow('maxQueue must be a positive integer, got -1')
    expect(() => voicePool.configure({ cancelGraceMs: Number.NaN })).toThrow(RangeError)
    expect(() => voicePool.configure({ maxQueue: '10' as never })).toThrow(
      new TypeError('maxQueue must be a positive integer, got 10'),
    )
    expect(() => voicePool.configure({ maxQueue: '10' as never })).toThrow(TypeError)
    expect(() => voicePool.configure({ cancelGraceMs: '0' as never })).toThrow(TypeError)
    expect(() => voicePool.configure({ handleSignals: 'yes' as never })).toThrow(TypeError)
  })
})
