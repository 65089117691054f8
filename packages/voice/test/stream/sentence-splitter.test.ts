import { describe, expect, it } from 'vitest'
import { speechText } from '../../src/index.js'
import { SentenceSplitter } from '../../src/stream/sentence-splitter.js'
import { corpus } from '../speech-text/corpus.js'

/** The chunks of `text` given whole, or in deltas of the sizes `sizes` yields. */
function chunks(text: string, sizes?: () => number): string[] {
  const splitter = new SentenceSplitter()
  const out: string[] = []
  if (sizes === undefined) out.push(...splitter.push(text))
  else
    for (let i = 0; i < text.length; ) {
      const size = sizes()
      out.push(...splitter.push(text.slice(i, i + size)))
      i += size
    }
  return [...out, ...splitter.end()]
}

/** A small deterministic generator of delta sizes from 1 to 12. */
function randomSizes(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return 1 + (state % 12)
  }
}

const reply = [
  '# Guida rapida',
  '',
  'Certo! Il Dott. Rossi riceve alle 9.30, e.g. domani, con la Sig.ra Bianchi. Vedi https://example.com/guida/v1.2?x=1. Poi chiama il n. 3.',
  'Ecco i passi:',
  '1. Apri il file. Poi salvalo.',
  '2. Chiudi **tutto. Subito** e `npm run build. Fatto` ora.',
  '',
  '```js',
  'const a = 1. B',
  '',
  'Una frase nel codice. Altra.',
  '```',
  'Fatto. [Il sito. Bello](https://x.com/a. b) ok.',
  '',
  '| Nome. Titolo | Costo |',
  '|---|---|',
  '| Tè. Verde | €3.50 |',
  '',
  '> Citazione. Seconda frase.',
  '',
  'Fine… Davvero? Sì! J. K. Rowling lo scrisse.',
].join('\n')

describe('SentenceSplitter', () => {
  it('gives the same chunks for deltas of 1 character, of random sizes, and the whole text', () => {
    const whole = chunks(reply)
    expect(chunks(reply, () => 1)).toEqual(whole)
    for (const seed of [1, 2, 3, 42, 1234]) expect(chunks(reply, randomSizes(seed))).toEqual(whole)
  })

  it('cuts at sentence ends and blocks, not at abbreviations, decimals, URLs, code, links, emphasis or tables', () => {
    expect(chunks(reply).map((chunk) => chunk.trim())).toEqual([
      '# Guida rapida',
      'Certo!',
      'Il Dott. Rossi riceve alle 9.30, e.g. domani, con la Sig.ra Bianchi.',
      'Vedi https://example.com/guida/v1.2?x=1.',
      'Poi chiama il n. 3.',
      'Ecco i passi:',
      '1. Apri il file.',
      'Poi salvalo.',
      '2. Chiudi **tutto. Subito** e `npm run build. Fatto` ora.',
      '```js\nconst a = 1. B\n\nUna frase nel codice. Altra.\n```',
      'Fatto.',
      '[Il sito. Bello](https://x.com/a. b) ok.',
      '| Nome. Titolo | Costo |\n|---|---|\n| Tè. Verde | €3.50 |',
      '> Citazione.',
      'Seconda frase.',
      'Fine…',
      'Davvero?',
      'Sì!',
      'J. K. Rowling lo scrisse.',
    ])
  })

  it('reads aloud chunk by chunk as the whole reply reads aloud', () => {
    for (const language of ['it', 'en', 'de']) {
      const spoken = chunks(reply)
        .map((chunk) => speechText(chunk, { language }))
        .filter((text) => text !== '')
      expect(spoken.join(' ')).toBe(speechText(reply, { language }))
    }
  })

  it('keeps every reply of the speechText corpus saying the same, in the same chunks however it arrives', () => {
    for (const [i, entry] of corpus.entries()) {
      const whole = chunks(entry.markdown)
      expect(
        chunks(entry.markdown, () => 1),
        entry.markdown,
      ).toEqual(whole)
      expect(chunks(entry.markdown, randomSizes(i + 1)), entry.markdown).toEqual(whole)
      const options = { language: entry.language }
      const spoken = whole.map((chunk) => speechText(chunk, options)).filter((text) => text !== '')
      expect(spoken.join(' '), entry.markdown).toBe(speechText(entry.markdown, options))
    }
  })

  it('does not cut before a lowercase word, and keeps markup closing a sentence with it', () => {
    expect(chunks('Mele, pere ecc. e poi basta. **Fatto!** Ora, Mr. Smith, i.e. you. OK.')).toEqual([
      'Mele, pere ecc. e poi basta. ',
      '**Fatto!** ',
      'Ora, Mr. Smith, i.e. you. ',
      'OK.',
    ])
  })

  const emojiReply =
    'Great job! 🎉 See you tomorrow. 👋 Fatto!👨‍👩‍👧 🇮🇹 👍🏽 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ❤️‍🔥 Poi. ✅ **Bene** ok. 🎉 *piano* ok. 🔟 Dieci. 1️⃣ Uno.\nRiga! 🎉\nNuova riga. 👋'

  it('ends a sentence at a stop followed by emoji, which stay with the sentence they follow', () => {
    expect(chunks(emojiReply)).toEqual([
      'Great job! 🎉 ',
      'See you tomorrow. 👋 ',
      'Fatto!👨‍👩‍👧 🇮🇹 👍🏽 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ❤️‍🔥 ',
      'Poi. ✅ ',
      // After emoji a sentence starts with a capital, behind markup or not.
      '**Bene** ok. 🎉 *piano* ok. 🔟 Dieci. 1️⃣ Uno.\n',
      'Riga! 🎉\n',
      'Nuova riga. 👋',
    ])
    expect(chunks('Great job! See you tomorrow.')).toEqual(['Great job! ', 'See you tomorrow.'])
  })

  it('gives the same chunks with emoji for deltas of 1 character, of words, of random sizes, and whole', () => {
    const whole = chunks(emojiReply)
    expect(chunks(emojiReply, () => 1)).toEqual(whole)
    for (const seed of [1, 2, 3, 42, 1234]) expect(chunks(emojiReply, randomSizes(seed))).toEqual(whole)
    const splitter = new SentenceSplitter()
    const byWord = (emojiReply.match(/\S+\s*/g) ?? []).flatMap((word) => splitter.push(word))
    expect([...byWord, ...splitter.end()]).toEqual(whole)
  })

  it('reads a reply with emoji aloud chunk by chunk as whole, in both emoji modes', () => {
    for (const emoji of ['drop', 'name'] as const) {
      for (const language of ['it', 'en']) {
        const spoken = chunks(emojiReply)
          .map((chunk) => speechText(chunk, { language, emoji }))
          .filter((text) => text !== '')
        expect(spoken.join(' ')).toBe(speechText(emojiReply, { language, emoji }))
      }
    }
  })

  it('waits for the next delta when it decides the cut', () => {
    const splitter = new SentenceSplitter()
    expect(splitter.push('Costa 3.')).toEqual([])
    expect(splitter.push('5 euro. ')).toEqual([])
    expect(splitter.push('Poi')).toEqual(['Costa 3.5 euro. '])
    expect(splitter.push(' basta.\n')).toEqual([])
    // A line that starts a code block ends the paragraph before it.
    expect(splitter.push('``')).toEqual([])
    expect(splitter.push('`')).toEqual(['Poi basta.\n'])
    expect(splitter.end()).toEqual(['```'])
  })
})
