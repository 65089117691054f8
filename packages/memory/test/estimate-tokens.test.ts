import { readFileSync } from 'node:fs'
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base'
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base'
import { describe, expect, it } from 'vitest'
import { estimateTokens } from '../src/index.js'

// Chat lines as a bot sees them (`role: content`, as context() renders them): Italian and
// English replies, Markdown, code, numbers, other scripts and emoji.
const CHAT = [
  'user: Ciao! Come posso aiutarti oggi?',
  'assistant: Domani a Milano è previsto sole al mattino e qualche nuvola nel pomeriggio.',
  'assistant: Ti ricorderò di chiamare la mamma alle sei in punto.',
  'user: La stazione più vicina è a dieci minuti a piedi, sempre dritto?',
  'assistant: Il treno per Bologna parte dal binario quattro alle 9:15, costa 12,90 €.',
  'assistant: Il museo è chiuso il lunedì, ma domenica l’ingresso è gratuito. Buona giornata!',
  'user: Perché non provi a riavviare il telefono e a riprovare?',
  'assistant: Ecco tre idee per la cena:\n- risotto ai funghi\n- minestrone\n- una frittata con le zucchine',
  'user: what is the weather like in London tomorrow?',
  'assistant: Tomorrow in London expect light rain in the morning, clearing up by the afternoon, with a high of 14 °C.',
  'assistant: Sure! Here is how to read a file in Node:\n\n```js\nimport { readFile } from "node:fs/promises"\nconst text = await readFile("notes.txt", "utf8")\nconsole.log(text.length)\n```',
  'user: Can you summarise the internationalization guidelines in three bullet points?',
  'assistant: **Summary**\n1. Keep strings in resource files.\n2. Never concatenate translated fragments.\n3. Format dates and numbers with the user’s locale.',
  'user: Call me at +39 347 123 4567 on 2025-10-12 at 18:30.',
  'user: Привет, как дела? Что нового?',
  'assistant: Всё хорошо, спасибо! Чем могу помочь?',
  'user: 你好，世界！今天天气怎么样？',
  'assistant: こんにちは！お元気ですか？',
  'user: Ciao! Come stai? 😊👍',
  'assistant: Benissimo, grazie! Perché me lo chiedi? — «così»',
  'user: Γεια σου, τι κάνεις;',
  'user: ok',
]

/** Paragraphs of this package's README and CHANGELOG: English prose, tables, lists and code. */
function paragraphs(): string[] {
  const out: string[] = []
  for (const file of ['../README.md', '../CHANGELOG.md']) {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8')
    for (const part of text.split(/\n{2,}/)) if (part.trim().length > 0) out.push(`assistant: ${part}`)
  }
  return out
}

interface Margin {
  /** Sum of estimates over sum of real counts. */
  total: number
  /** Share of texts whose estimate is below the real count. */
  under: number
  /** The lowest estimate / real ratio of one text. */
  worst: number
  /** The highest estimate / real ratio of one text. */
  highest: number
}

function margin(texts: string[], count: (text: string) => number): Margin {
  let estimated = 0
  let real = 0
  let under = 0
  let worst = Number.POSITIVE_INFINITY
  let highest = 0
  for (const text of texts) {
    const e = estimateTokens(text)
    const r = count(text)
    estimated += e
    real += r
    if (e < r) under++
    worst = Math.min(worst, e / r)
    highest = Math.max(highest, e / r)
  }
  return { total: estimated / real, under: under / texts.length, worst, highest }
}

describe('estimateTokens', () => {
  it('counts nothing in an empty text and at least a token in any other', () => {
    expect(estimateTokens('')).toBe(0)
    for (const text of ['a', '.', ' ', '\n', '7', '😊', '世'])
      expect(estimateTokens(text)).toBeGreaterThanOrEqual(1)
  })

  it('grows with the text and returns a non-negative integer', () => {
    let previous = 0
    let text = ''
    for (const line of CHAT) {
      text += `${line}\n`
      const n = estimateTokens(text)
      expect(Number.isInteger(n)).toBe(true)
      expect(n).toBeGreaterThan(previous)
      previous = n
    }
  })

  // The margins the README states, measured against the tokenizers of GPT-4o (o200k_base) and
  // GPT-4 (cl100k_base): a change to the estimate that makes them worse fails here.
  it('never underestimates o200k_base on chat lines, and overestimates it by 28% over all', () => {
    const chat = margin(CHAT, o200k)
    expect(chat.under).toBe(0)
    expect(chat.total).toBeGreaterThanOrEqual(1)
    expect(chat.total).toBeLessThanOrEqual(1.3)
    expect(chat.highest).toBeLessThanOrEqual(2.1)
    const docs = margin(paragraphs(), o200k)
    expect(docs.worst).toBeGreaterThanOrEqual(1)
    expect(docs.total).toBeLessThanOrEqual(1.5)
  })

  it('is within 12% of cl100k_base over all chat lines, at worst 33% below on one', () => {
    const chat = margin(CHAT, cl100k)
    expect(chat.total).toBeGreaterThanOrEqual(1)
    expect(chat.total).toBeLessThanOrEqual(1.15)
    expect(chat.worst).toBeGreaterThanOrEqual(0.66)
    const docs = margin(paragraphs(), cl100k)
    expect(docs.worst).toBeGreaterThanOrEqual(1)
    expect(docs.total).toBeLessThanOrEqual(1.5)
  })
})
