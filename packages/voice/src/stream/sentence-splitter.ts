// Cuts a Markdown reply that arrives in pieces into chunks that can be spoken on their own: each
// chunk read aloud by speechText gives the same words as the whole reply read aloud, chunk by
// chunk. Boundaries are chosen on the raw Markdown, never inside a fenced code block, inline code,
// a link, emphasis or a table, and a decision that depends on text not yet received waits for it,
// so the chunks are the same however the reply was split into deltas.

import { EMOJI_PIECE } from '../speech-text/emoji.js'

const FENCE = /^ {0,3}(`{3,}|~{3,})/
const QUOTES = /^(?: {0,3}>\s?)*/
// A line that is a block of its own for speechText: a heading or a list item.
const BLOCK_LINE = /^(?:\s*(?:[-*+•]|\d{1,9}[.)])\s+\S| {0,3}#{1,6}(?:\s|$))/
// The start of a line that ends the paragraph before it.
const BLOCK_START = /^(?:\s*(?:[-*+•]|\d{1,9}[.)])\s| {0,3}#{1,6}\s| {0,3}(?:`{3}|~{3}))/
// A line start too short to tell whether it starts a block.
const MAYBE_BLOCK_START = /^\s*(?:[-*+•]|\d{1,9}[.)]?|#{1,6}|`{1,2}|~{1,2})?$/
// The list marker or heading hashes, which are not sentence punctuation ("1. Apri").
const MARKER = /^\s*(?:[-*+•]|\d{1,9}[.)]|#{1,6})\s+/
// What may open a sentence: a capital, or markup or a quote before one.
const SENTENCE_OPENER = /[\p{Lu}*_["'(«“‘¿¡]/u
const SPACE = /\s/
const LINE_SPACE = /[^\S\n]/
// The start of a piece of text that may be the first half of an emoji: a lone high surrogate of a
// code point split across deltas.
const HALF_PIECE = /^[\uD800-\uDBFF]$/
// Markup and quotes that may stand before the capital of a sentence.
const OPENING_MARKS = '*_["\'(«“‘¿¡'
const STOPS = '.!?…'
const CLOSERS = '*_~'

// Titles and short forms followed by a full stop that rarely ends an Italian or English sentence.
const ABBREVIATIONS = new Set([
  'dott',
  'dr',
  'dssa',
  'sig',
  'sigg',
  'prof',
  'ing',
  'avv',
  'arch',
  'geom',
  'rag',
  'mons',
  'on',
  'sen',
  'gen',
  'col',
  'mr',
  'mrs',
  'ms',
  'st',
  'jr',
  'sr',
  'vs',
  'cf',
  'cfr',
  'fig',
  'pag',
  'pp',
  'vol',
  'art',
  'nr',
  'no',
  'tel',
  'ca',
  'approx',
  'es',
])

/** `cut` at a position, `none` if there is no boundary here, `wait` if later text decides. */
type Decision = { kind: 'cut'; at: number } | { kind: 'none' } | { kind: 'wait' }

const NONE: Decision = { kind: 'none' }
const WAIT: Decision = { kind: 'wait' }

function count(text: string, part: string): number {
  let n = 0
  for (let i = text.indexOf(part); i !== -1; i = text.indexOf(part, i + part.length)) n++
  return n
}

/** True when `prefix` ends inside inline code, a link, emphasis or strikethrough. */
function insideInline(prefix: string): boolean {
  if (count(prefix, '`') % 2 === 1) return true
  if (count(prefix, '[') > count(prefix, ']')) return true
  const target = prefix.lastIndexOf('](')
  if (target !== -1 && !prefix.includes(')', target)) return true
  if (count(prefix, '**') % 2 === 1 || count(prefix, '~~') % 2 === 1) return true
  const singles = prefix.replace(/\*\*/g, '').replace(/(^|\n)\s*\*\s/g, '$1')
  return count(singles, '*') % 2 === 1
}

/** True when the `.` at `p` ends a short form ("Dott.", "e.g.", an initial) rather than a sentence. */
function isAbbreviation(text: string, p: number): boolean {
  const word = /\p{L}+$/u.exec(text.slice(Math.max(0, p - 12), p))?.[0]
  if (word === undefined) return false
  if (word.length === 1) return true
  if (text[p - word.length - 1] === '.') return true
  return ABBREVIATIONS.has(word.toLowerCase())
}

/**
 * Whether a capital comes at `r`, past markup or quotes; undefined when the text ends first. After
 * emoji a sentence must open with one: a name read at a sentence end is followed by a stop only
 * before a new sentence, so the cut must agree with what speechText sees once markup is gone.
 */
function capitalAhead(text: string, r: number, final: boolean): boolean | undefined {
  let i = r
  while (i < text.length && OPENING_MARKS.includes(text[i] as string)) i++
  if (i >= text.length) return final ? false : undefined
  return /\p{Lu}/u.test(text[i] as string)
}

/** Whether a sentence ends at the stop at `p` of a paragraph line, and where the next chunk starts. */
function sentenceEnd(text: string, p: number, final: boolean): Decision {
  let q = p
  while (q < text.length && STOPS.includes(text[q] as string)) q++
  const stops = text.slice(p, q)
  while (q < text.length && CLOSERS.includes(text[q] as string)) q++
  if (q >= text.length) return final ? NONE : WAIT
  EMOJI_PIECE.lastIndex = q
  if (!SPACE.test(text[q] as string) && !EMOJI_PIECE.test(text)) {
    return !final && HALF_PIECE.test(text.slice(q)) ? WAIT : NONE
  }
  if (stops === '.' && isAbbreviation(text, p)) return NONE
  if (insideInline(text.slice(0, q))) return NONE
  // Emoji after a sentence end on its line belong to that sentence ("Great job! 🎉 See you."):
  // they are stepped over; keycaps are not, as they are read as numbers.
  let r = q
  let emojiEnd = -1
  for (;;) {
    if (r < text.length && LINE_SPACE.test(text[r] as string)) {
      r++
      continue
    }
    EMOJI_PIECE.lastIndex = r
    if (!EMOJI_PIECE.test(text)) break
    r = EMOJI_PIECE.lastIndex
    emojiEnd = r
  }
  if (!final && HALF_PIECE.test(text.slice(r))) return WAIT
  if (r === emojiEnd && r < text.length && !SPACE.test(text[r] as string)) return NONE
  while (r < text.length && SPACE.test(text[r] as string)) r++
  if (r >= text.length) return final ? NONE : WAIT
  const opens = emojiEnd === -1 ? SENTENCE_OPENER.test(text[r] as string) : capitalAhead(text, r, final)
  const newline = text.lastIndexOf('\n', r - 1)
  if (newline >= q) {
    const nextStart = newline + 1
    // A blank line between: the block ends here whatever follows.
    if (text.indexOf('\n', q) < newline) return { kind: 'cut', at: nextStart }
    const end = text.indexOf('\n', nextStart)
    const next = text.slice(nextStart, end === -1 ? text.length : end).replace(QUOTES, '')
    if (BLOCK_START.test(next)) return { kind: 'cut', at: nextStart }
    if (end === -1 && !final && MAYBE_BLOCK_START.test(next)) return WAIT
    // speechText joins the lines of a paragraph with a stop of its own unless the line ends on one.
    if (!/[.!?]$/.test(text.slice(p, q))) return NONE
    if (opens === undefined) return WAIT
    return opens ? { kind: 'cut', at: nextStart } : NONE
  }
  if (opens === undefined) return WAIT
  return opens ? { kind: 'cut', at: r } : NONE
}

/**
 * The end of the first chunk of `text` that can be spoken on its own, or undefined when there is
 * none yet. `atLineStart`: `text` begins a line. `final`: no more text will come.
 */
export function firstCut(text: string, atLineStart: boolean, final: boolean): number | undefined {
  let fence: string | undefined
  let pos = 0
  while (pos < text.length) {
    const newline = text.indexOf('\n', pos)
    const complete = newline !== -1
    const line = text.slice(pos, complete ? newline : text.length)
    if (fence !== undefined) {
      if (!complete) return undefined
      const close = FENCE.exec(line)?.[1]
      if (close !== undefined && close[0] === fence[0] && close.length >= fence.length) return newline + 1
      pos = newline + 1
      continue
    }
    const lineStart = pos > 0 || atLineStart
    const opening = lineStart ? FENCE.exec(line)?.[1] : undefined
    if (opening !== undefined) {
      if (!complete) return undefined
      fence = opening
      pos = newline + 1
      continue
    }
    if (lineStart && complete && line.trim() === '') return newline + 1
    const content = lineStart ? line.replace(QUOTES, '') : line
    const marker = lineStart ? (MARKER.exec(content)?.[0].length ?? 0) : 0
    const from = pos + (line.length - content.length) + marker
    for (let p = from; p < pos + line.length; p++) {
      const char = text[p] as string
      // A table cell is spoken with its row; its stops are no sentence ends.
      if (char === '|') break
      if (!STOPS.includes(char) || STOPS.includes(text[p - 1] ?? '')) continue
      const decision = sentenceEnd(text, p, final)
      if (decision.kind === 'cut') return decision.at
      if (decision.kind === 'wait') return undefined
    }
    if (!complete) return undefined
    if (!line.includes('|')) {
      if (lineStart && BLOCK_LINE.test(content)) return newline + 1
      // A paragraph ends where a heading, a list item or a code block starts.
      const end = text.indexOf('\n', newline + 1)
      const next = text.slice(newline + 1, end === -1 ? text.length : end).replace(QUOTES, '')
      if (BLOCK_START.test(next)) return newline + 1
      if (end === -1 && !final && MAYBE_BLOCK_START.test(next)) return undefined
    }
    pos = newline + 1
  }
  return undefined
}

/**
 * Collects the deltas of a reply and hands back each chunk as soon as it is complete. The chunks
 * joined give back the reply, apart from the blank lines between blocks.
 */
export class SentenceSplitter {
  #pending = ''
  #atLineStart = true

  /** The text received but not yet handed back, in characters. */
  get pendingLength(): number {
    return this.#pending.length
  }

  /** Adds a delta; returns the chunks it completed, in order. */
  push(delta: string): string[] {
    this.#pending += delta
    return this.#drain(false)
  }

  /** Ends the reply; returns the chunks left, the last one possibly without a stop. */
  end(): string[] {
    const chunks = this.#drain(true)
    if (this.#pending.trim() !== '') chunks.push(this.#pending)
    this.#pending = ''
    this.#atLineStart = true
    return chunks
  }

  #drain(final: boolean): string[] {
    const chunks: string[] = []
    for (;;) {
      const cut = firstCut(this.#pending, this.#atLineStart, final)
      if (cut === undefined) return chunks
      const chunk = this.#pending.slice(0, cut)
      if (chunk.trim() !== '') chunks.push(chunk)
      this.#atLineStart = this.#pending[cut - 1] === '\n'
      this.#pending = this.#pending.slice(cut)
    }
  }
}
