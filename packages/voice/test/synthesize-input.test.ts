import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice, parseWav } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const echo = join(fixturesDir, 'echo-engine.mjs')
const reply = '**Certo!** Apri https://example.com/guida ✅'

afterAll(async () => {
  await voicePool.close()
})

/** The text the engine was given, read back from the echo engine's samples. */
async function heard(voice: InstanceType<typeof VoiceSystem>, text: string, input?: 'markdown' | 'text') {
  const audio = await voice.synthesize(text, { format: 'wav', ...(input === undefined ? {} : { input }) })
  return String.fromCharCode(...parseWav(audio.data).samples)
}

describe('synthesize() input: Markdown by default, or the text as given', () => {
  it('gives the engine the reply as speechText reads it, by default', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    expect(await heard(voice, reply)).toBe('Certo! Apri example.com.')
    expect(await heard(voice, reply, 'markdown')).toBe('Certo! Apri example.com.')
  })

  it('gives the engine exactly the given text with input: "text"', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    expect(await heard(voice, reply, 'text')).toBe(reply)
  })

  it('reads figures in the conventions of the voice’s current language', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en-US' })
    expect(await heard(voice, 'On 3/4/2025, $3.50')).toBe('On March 4th, 2025, 3 dollars and 50 cents.')
    voice.setLanguage('it-IT')
    expect(await heard(voice, 'Il 3/4/2025, $3.50')).toBe('Il 3 aprile 2025, 3 dollari e 50 centesimi.')
    // A custom engine may take a language name that is no code: the neutral clean-up still applies.
    voice.setLanguage('Italian voice')
    expect(await heard(voice, '**Ciao** 👋')).toBe('Ciao.')
  })

  it('applies to textToSpeech too', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    const { mkdtemp, readFile, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(join(tmpdir(), 'voice-input-'))
    try {
      const md = await voice.textToSpeech('**Sure!** Open https://example.com/guide ✅', join(dir, 'a.wav'))
      const raw = await voice.textToSpeech('**Sure!**', join(dir, 'b.wav'), { input: 'text' })
      const text = async (path: string) => String.fromCharCode(...parseWav(await readFile(path)).samples)
      expect(await text(md)).toBe('Sure! Open example.com.')
      expect(await text(raw)).toBe('**Sure!**')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects an unknown input, and a reply with nothing left to say', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    await expect(voice.synthesize('ciao', { input: 'html' as never })).rejects.toThrow(
      new RangeError('input must be "markdown" or "text", got "html"'),
    )
    const error = await voice.synthesize('✅🎉').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RangeError)
    // Emoji only, left out by default: naming them is the likeliest fix, and is suggested first.
    expect((error as Error).message).toContain(
      "Pass { emoji: 'name' } to have its emoji said by name, or { input: 'text' } to have it spoken as written.",
    )
    // Nothing but code, or emoji in a language without names for them: naming would not help.
    const german = new VoiceSystem({ engine: echo, language: 'de' })
    for (const text of ['```\nx\n```', '✅🎉']) {
      const other = await german.synthesize(text).catch((e: unknown) => e)
      expect((other as Error).message).toMatch(
        /got none\. Pass \{ input: 'text' \} to have it spoken as written\.$/,
      )
    }
    expect(await heard(voice, '✅', 'text')).toBe('✅')
  })

  it('names emoji with emoji: "name", as a VoiceSystem option or for one call', async () => {
    const naming = new VoiceSystem({ engine: echo, language: 'it-IT', emoji: 'name' })
    expect(await heard(naming, 'Fatto ✅ 🔥🔥')).toBe('Fatto, segno di spunta, fuoco.')
    const audio = await naming.synthesize('Fatto ✅', { format: 'wav', emoji: 'drop' })
    expect(String.fromCharCode(...parseWav(audio.data).samples)).toBe('Fatto.')
    // Only the reply read aloud: with input: 'text' the engine gets the text as given.
    expect(await heard(naming, 'Fatto ✅', 'text')).toBe('Fatto ✅')
    const dropping = new VoiceSystem({ engine: echo, language: 'en' })
    expect(await heard(dropping, 'Done ✅')).toBe('Done.')
    const named = await dropping.synthesize('Done 👍🏽', { format: 'wav', emoji: 'name' })
    expect(String.fromCharCode(...parseWav(named.data).samples)).toBe('Done, thumbs up.')
    // A reply of emoji only has something to say once they are named.
    expect(await heard(naming, '✅🎉')).toBe('Segno di spunta, spara coriandoli.')
  })

  it('names emoji in stream() too, per VoiceSystem or per call', async () => {
    async function* reply() {
      yield 'Fatto ✅. Ci'
      yield ' vediamo 👋'
    }
    const clips = async (voice: InstanceType<typeof VoiceSystem>, options = {}) => {
      const texts: string[] = []
      for await (const clip of voice.stream(reply(), { format: 'wav', ...options })) texts.push(clip.text)
      return texts
    }
    const naming = new VoiceSystem({ engine: echo, language: 'it', emoji: 'name' })
    expect(await clips(naming)).toEqual(['Fatto, segno di spunta.', 'Ci vediamo, mano che saluta.'])
    expect(await clips(naming, { emoji: 'drop' })).toEqual(['Fatto.', 'Ci vediamo.'])
    const dropping = new VoiceSystem({ engine: echo, language: 'it' })
    expect(await clips(dropping)).toEqual(['Fatto.', 'Ci vediamo.'])
    expect(await clips(dropping, { emoji: 'name' })).toEqual([
      'Fatto, segno di spunta.',
      'Ci vediamo, mano che saluta.',
    ])
  })

  it('rejects another emoji value, naming the option and the values allowed, before queueing', async () => {
    const message = 'emoji must be "drop" or "name", got "spell"'
    expect(() => new VoiceSystem({ engine: echo, emoji: 'spell' as never })).toThrow(new RangeError(message))
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    const before = voicePool.stats()
    await expect(voice.synthesize('ciao', { emoji: 'spell' as never })).rejects.toThrow(
      new RangeError(message),
    )
    await expect(voice.synthesize('ciao', { emoji: 'spell' as never, input: 'text' })).rejects.toThrow(
      new RangeError(message),
    )
    // Not a string at all: a TypeError.
    await expect(voice.textToSpeech('ciao', 'x.ogg', { emoji: null as never })).rejects.toThrow(
      new TypeError('emoji must be "drop" or "name", got null'),
    )
    await expect(voice.textToSpeech('ciao', 'x.ogg', { emoji: null as never })).rejects.toBeInstanceOf(
      TypeError,
    )
    async function* source() {
      yield 'ciao'
    }
    expect(() => voice.stream(source(), { emoji: 1 as never })).toThrow(
      new TypeError('emoji must be "drop" or "name", got 1'),
    )
    expect(() => voice.stream(source(), { emoji: 1 as never })).toThrow(TypeError)
    expect(() => new VoiceSystem({ engine: echo, emojis: 'name' } as never)).toThrow(
      new TypeError('unknown option "emojis" of new VoiceSystem(): did you mean emoji?'),
    )
    expect(voicePool.stats()).toMatchObject({ queued: before.queued, completed: before.completed })
  })

  it('counts maxChars on the text as given and as read aloud', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it', maxChars: 12 })
    await expect(voice.synthesize('*'.repeat(13))).rejects.toThrow(
      'text must be at most maxChars (12) characters, got 13',
    )
    await expect(voice.synthesize('Costa €3.50')).rejects.toThrow(
      'text must be at most maxChars (12) characters as read aloud (figures in words), got 28',
    )
    expect(await heard(voice, 'Costa €3.50', 'text')).toBe('Costa €3.50')
  })

  it('shortens the audio of a Markdown reply with the real engine', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const raw = await voice.synthesize(reply, { format: 'wav', input: 'text' })
    const cleaned = await voice.synthesize(reply, { format: 'wav' })
    // As written, the engine also says "asterisco" four times, the whole address and the emoji.
    expect(raw.durationMs).toBeGreaterThan(cleaned.durationMs * 2)
  })
})
