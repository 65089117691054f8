import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadVoice, parseWav, rms } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const sentence = 'Ciao a tutti, oggi il tempo è bello e andiamo al mare.' // 12 words
const words = 12
const scratch = mkdtempSync(join(tmpdir(), 'voice-synthesis-'))

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('WAV synthesis with the espeak-ng WASM engine (built package, real worker)', () => {
  it('produces non-silent 16-bit mono PCM whose length fits the text and rate', async () => {
    const voice = new VoiceSystem({ language: 'it', rate: 150, volume: 1 })
    const audio = await voice.synthesize(sentence, { format: 'wav' })
    expect(audio.format).toBe('wav')
    expect(audio.mimeType).toBe('audio/wav')
    const wav = parseWav(audio.data)
    expect(wav.channels).toBe(1)
    expect(wav.bitsPerSample).toBe(16)
    expect(wav.sampleRate).toBe(audio.sampleRate)
    expect(wav.sampleRate).toBe(22050)
    expect(audio.durationMs).toBeCloseTo((wav.samples.length / wav.sampleRate) * 1000, 6)
    // 12 words at 150 words per minute is 4.8 s of speech; allow for pauses and espeak's pacing.
    const expectedMs = (words / 150) * 60_000
    expect(audio.durationMs).toBeGreaterThan(expectedMs * 0.4)
    expect(audio.durationMs).toBeLessThan(expectedMs * 2)
    expect(rms(wav.samples)).toBeGreaterThan(500)
  })

  it('maps rate, volume and pitch onto the audio', async () => {
    const voice = new VoiceSystem({ language: 'it', rate: 100 })
    const slow = parseWav((await voice.synthesize(sentence, { format: 'wav' })).data)
    voice.setRate(300)
    const fast = parseWav((await voice.synthesize(sentence, { format: 'wav' })).data)
    expect(fast.samples.length).toBeLessThan(slow.samples.length * 0.6)

    voice.setRate(150)
    voice.setVolume(0.2)
    const quiet = rms(parseWav((await voice.synthesize(sentence, { format: 'wav' })).data).samples)
    voice.setVolume(1)
    const loud = rms(parseWav((await voice.synthesize(sentence, { format: 'wav' })).data).samples)
    expect(quiet).toBeGreaterThan(0)
    expect(quiet).toBeLessThan(loud * 0.4)

    voice.setVolume(0)
    const silent = parseWav((await voice.synthesize(sentence, { format: 'wav' })).data).samples
    expect(silent.length).toBeGreaterThan(0)
    expect(rms(silent)).toBe(0)
  })

  it('speaks other languages and voice variants', async () => {
    const english = new VoiceSystem({ language: 'en-us', voice: 'f3' })
    const audio = await english.synthesize('Hello there, how are you today?', { format: 'wav' })
    expect(rms(parseWav(audio.data).samples)).toBeGreaterThan(500)
    const male = new VoiceSystem({ language: 'en-us' })
    const other = await male.synthesize('Hello there, how are you today?', { format: 'wav' })
    expect(Buffer.from(other.data).equals(Buffer.from(audio.data))).toBe(false)
  })

  it('speaks the words after a NUL character (espeak-ng reads a C string)', async () => {
    const voice = new VoiceSystem({ language: 'en' })
    const spoken = async (text: string) =>
      parseWav((await voice.synthesize(text, { format: 'wav', input: 'text' })).data).samples.length
    expect(await spoken('Hello\0 world, how are you today?')).toBe(
      await spoken('Hello  world, how are you today?'),
    )
  })

  it('loads each language on demand on threads that already spoke another one', async () => {
    // The engine reads a language's data files when espeak-ng first opens them; a file left unread
    // would make espeak-ng reject the language or speak silence.
    await new VoiceSystem({ language: 'it' }).synthesize('Ciao a tutti!', { format: 'wav' })
    const texts: Record<string, string> = {
      ru: 'Привет, как дела сегодня?',
      de: 'Guten Morgen, wie geht es dir heute?',
      fr: 'Bonjour, comment allez-vous aujourd’hui ?',
    }
    for (const [language, text] of Object.entries(texts)) {
      const audio = await new VoiceSystem({ language }).synthesize(text, { format: 'wav' })
      expect(audio.durationMs, language).toBeGreaterThan(800)
      expect(rms(parseWav(audio.data).samples), language).toBeGreaterThan(500)
    }
  })

  it('textToSpeech writes the file, creating missing directories, and returns its path', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const target = join(scratch, 'replies', 'nested', '42.wav')
    const written = await voice.textToSpeech('Buongiorno!', target)
    expect(written).toBe(target)
    const wav = parseWav(new Uint8Array(readFileSync(target)))
    expect(rms(wav.samples)).toBeGreaterThan(500)
  })

  // Node's recursive mkdir retries forever where mkdir answers ENOENT for a directory it will never
  // make, as in /proc: textToSpeech must reject there, not hang.
  it.runIf(existsSync('/proc/self'))(
    'textToSpeech into a directory the file system cannot make (/proc): VoiceError io',
    async () => {
      const voice = new VoiceSystem({ language: 'it' })
      await expect(voice.textToSpeech('Ciao', '/proc/taurobot-voice-test/a/reply.ogg')).rejects.toMatchObject(
        {
          code: 'io',
          message: expect.stringContaining('cannot write "/proc/taurobot-voice-test/a/reply.ogg": ENOENT'),
        },
      )
    },
  )

  it('warmup() loads the engine once per thread and reports its load time', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    await voice.warmup()
    const stats = voicePool.stats()
    expect(stats.engineInitMs.count).toBeGreaterThanOrEqual(1)
    expect(stats.engineInitMs.count).toBeLessThanOrEqual(stats.maxThreads)
    expect(stats.engineInitMs.max).toBeGreaterThan(0)
    expect(stats.completed).toBeGreaterThan(5)
    expect(stats.runTime.count).toBe(stats.completed)
    expect(stats.runTime.p99).toBeGreaterThanOrEqual(stats.runTime.p50)
  })
})
