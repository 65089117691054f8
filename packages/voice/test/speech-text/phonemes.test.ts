import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { speechText } from '../../src/index.js'
import { EMOJI_KEYS } from '../../src/speech-text/emoji-names.js'
import { type CorpusReply, corpus } from './corpus.js'

// What the engine would say is checked on its phonemes (`espeak-ng -x`), not on the text: a
// symbol name is found whatever spelling produced it. Each check batches many texts into one
// espeak-ng run, separated by a marker sentence whose phonemes split the output again.
const installed = spawnSync('espeak-ng', ['--version']).status === 0
const MARKER = 'Zanzibar.'

/** Symbols whose names espeak-ng speaks: the examples, plus a web address's scheme. */
const SYMBOLS = ['*', '#', '/', '~', '\\', 'https://', 'www.']
const EMOJI =
  /(?:\p{Extended_Pictographic}|\p{Regional_Indicator})(?:[\u200D\uFE0F\p{Emoji_Modifier}]+\p{Extended_Pictographic}?)*/gu

/** Phonemes without stress, length and pause marks, so the same word matches wherever it stands. */
function bare(phonemes: string): string {
  return phonemes.replace(/[\s'",_|!:;]/g, '')
}

const markers = new Map<string, string>()
const names = new Map<string, string[]>()

/** The phonemes of each text, in one espeak-ng run. */
function phonemesOf(texts: readonly string[], voice: string): string[] {
  const marker = markers.get(voice) ?? bare(run([MARKER], voice))
  markers.set(voice, marker)
  const output = bare(
    run(
      texts.flatMap((text) => [text, MARKER]),
      voice,
    ),
  )
  const parts = output.split(marker).slice(0, texts.length)
  if (parts.length !== texts.length) throw new Error(`espeak-ng output split into ${parts.length} parts`)
  return parts
}

function run(texts: readonly string[], voice: string): string {
  const result = spawnSync('espeak-ng', ['-q', '-x', '-v', voice], {
    input: texts.map((text) => text.replace(/\n+/g, ' ')).join('\n'),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.status !== 0) throw new Error(`espeak-ng failed: ${result.stderr}`)
  return result.stdout
}

function voiceOf(language: string): string {
  const lower = language.toLowerCase()
  return lower.startsWith('it') ? 'it' : lower === 'en-us' ? 'en-us' : 'en'
}

interface Finding {
  reply: number
  said: string
}

/** Which forbidden things the engine says for each text: symbol names, emoji names, `not` words. */
function findings(replies: readonly CorpusReply[], texts: readonly string[], voice: string): Finding[] {
  const emoji = [...new Set(replies.flatMap((reply) => reply.markdown.match(EMOJI) ?? []))]
  const words = [...new Set(replies.flatMap((reply) => reply.not ?? []))]
  const all = [...SYMBOLS, ...emoji, ...words]
  const sounds = names.get(voice) ?? phonemesOf(all, voice)
  names.set(voice, sounds)
  const nameSounds = new Map(sounds.map((sound, i) => [all[i] as string, sound]))
  const spoken = phonemesOf(texts, voice)
  const found: Finding[] = []
  replies.forEach((reply, index) => {
    const mine = [...SYMBOLS, ...(reply.markdown.match(EMOJI) ?? []), ...(reply.not ?? [])]
    for (const name of mine) {
      const sound = nameSounds.get(name) as string
      if (sound.length >= 3 && (spoken[index] as string).includes(sound))
        found.push({ reply: index, said: name })
    }
  })
  return found
}

describe.skipIf(!installed)('what espeak-ng says for the corpus', () => {
  const groups = new Map<string, CorpusReply[]>()
  for (const reply of corpus) {
    const voice = voiceOf(reply.language)
    groups.set(voice, [...(groups.get(voice) ?? []), reply])
  }

  it.each([...groups.keys()])('says no symbol or emoji name in the cleaned replies (voice %s)', (voice) => {
    const replies = groups.get(voice) as CorpusReply[]
    const cleaned = replies.map((reply) => speechText(reply.markdown, { language: reply.language }))
    const found = findings(replies, cleaned, voice).map(({ reply, said }) => `${said} in ${cleaned[reply]}`)
    expect(found).toEqual([])
  })

  it.each([...groups.keys()])('finds the names in the replies as written (voice %s)', (voice) => {
    // The check must have teeth: spoken raw, most replies make the engine say a forbidden name.
    const replies = groups.get(voice) as CorpusReply[]
    const raw = replies.map((reply) => reply.markdown)
    const flagged = new Set(findings(replies, raw, voice).map((finding) => finding.reply))
    expect(flagged.size / replies.length).toBeGreaterThan(0.5)
  })
})

describe.skipIf(!installed)('what espeak-ng says for emoji named with emoji: "name"', () => {
  // Marks a name could hold that the engine would say by their names, on top of SYMBOLS. (`&` and
  // `+` are left out: their names, "and", "più", are words of many emoji names.)
  const MARKS = [...SYMBOLS, '@', '=']
  const keys = EMOJI_KEYS.split(' ')

  /**
   * The marks whose names the engine says in each text, as "mark in text": heard more often than in
   * the same text with only its letters, digits and stops ("campana sbarrata" holds "barra").
   */
  function marksSaid(texts: readonly string[], voice: string): string[] {
    const sounds = phonemesOf(MARKS, voice)
    const spoken = phonemesOf(texts, voice)
    const letters = phonemesOf(
      texts.map((text) => text.replace(/[^\p{L}\p{N}\s.,!?']/gu, ' ')),
      voice,
    )
    const count = (phonemes: string, sound: string) => phonemes.split(sound).length - 1
    return texts.flatMap((text, i) =>
      MARKS.filter((_, m) => {
        const sound = sounds[m] as string
        return sound.length >= 3 && count(spoken[i] as string, sound) > count(letters[i] as string, sound)
      }).map((mark) => `${mark} in ${text}`),
    )
  }

  it.each([
    ['it', 'it'],
    ['en', 'en'],
    ['en-US', 'en-us'],
  ])('says every name of the table as words (%s)', (language, voice) => {
    const texts = keys.map((key) => speechText(`Ok ${key} ok`, { language, emoji: 'name' }))
    // Every emoji of the table has a name in the language, so none is dropped.
    expect(texts.filter((text) => text === 'Ok ok.')).toEqual([])
    expect(marksSaid(texts, voice)).toEqual([])
  })

  it.each(['it', 'en'])(
    'says the names, and no symbol name, for the corpus replies with emoji (%s)',
    (voice) => {
      const replies = corpus.filter(
        (reply) => voiceOf(reply.language) === voice && EMOJI.test(reply.markdown),
      )
      EMOJI.lastIndex = 0
      expect(replies.length).toBeGreaterThan(3)
      const named = replies.map((reply) =>
        speechText(reply.markdown, { language: reply.language, emoji: 'name' }),
      )
      expect(marksSaid(named, voice)).toEqual([])
      // The names are heard: each named reply sounds longer than the same reply with emoji dropped.
      const dropped = replies.map((reply) => speechText(reply.markdown, { language: reply.language }))
      const namedSounds = phonemesOf(named, voice)
      const droppedSounds = phonemesOf(dropped, voice)
      namedSounds.forEach((sound, i) => {
        expect(sound.length, named[i]).toBeGreaterThan((droppedSounds[i] as string).length)
      })
    },
  )

  it('finds the marks when they are there, so the check has teeth', () => {
    const texts = ['Ok *see* ok', 'a/b', 'a#b', 'ask@me', 'one = one']
    expect(marksSaid(texts, 'it')).toHaveLength(5)
  })
})
