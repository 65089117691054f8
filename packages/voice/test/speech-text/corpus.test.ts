import { describe, expect, it } from 'vitest'
import { speechText } from '../../src/index.js'
import { corpus } from './corpus.js'

const MARKUP = /[*#|~`\\_[\]<>/{}^]|https?:|www\.|\p{Extended_Pictographic}/iu

describe('speechText on the corpus of chat replies', () => {
  it('holds at least 100 replies in Italian and English', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100)
    expect(corpus.filter((r) => r.language.startsWith('it')).length).toBeGreaterThanOrEqual(50)
    expect(corpus.filter((r) => r.language.startsWith('en')).length).toBeGreaterThanOrEqual(50)
  })

  it.each(corpus.map((reply, index) => [index, reply] as const))(
    'keeps the words of reply %i',
    (_, reply) => {
      const spoken = speechText(reply.markdown, { language: reply.language })
      expectWordsInOrder(spoken, reply.keep)
      expect(spoken).not.toMatch(MARKUP)
      for (const word of reply.not ?? []) expect(spoken.toLowerCase()).not.toContain(word.toLowerCase())
    },
  )

  it('leaves the plain twins as they are written', () => {
    for (const reply of corpus) {
      if (reply.plain === undefined) continue
      expect(speechText(reply.plain, { language: reply.language })).toBe(reply.plain)
    }
  })

  it.each(corpus.map((reply, index) => [index, reply] as const))(
    'keeps the words of reply %i with emoji: "name", and names its emoji instead of dropping them',
    (_, reply) => {
      const spoken = speechText(reply.markdown, { language: reply.language, emoji: 'name' })
      const dropped = speechText(reply.markdown, { language: reply.language })
      expectWordsInOrder(spoken, reply.keep)
      expect(spoken).not.toMatch(MARKUP)
      if (/\p{Extended_Pictographic}/u.test(reply.markdown))
        expect(spoken.length).toBeGreaterThan(dropped.length)
      else expect(spoken).toBe(dropped)
    },
  )

  it('gives the same text when run twice', () => {
    for (const reply of corpus) {
      const once = speechText(reply.markdown, { language: reply.language })
      expect(speechText(once, { language: reply.language })).toBe(once)
    }
  })
})

/** Checks that `spoken` says each of `words`, in this order (case aside). */
function expectWordsInOrder(spoken: string, words: readonly string[]): void {
  let from = 0
  for (const word of words) {
    const at = spoken.toLowerCase().indexOf(word.toLowerCase(), from)
    expect(at, `"${word}" in order in ${JSON.stringify(spoken)}`).toBeGreaterThanOrEqual(0)
    from = at + word.length
  }
}
