import { EMOJI_KEYS, EMOJI_NAMES } from './emoji-names.js'

/** What `speechText` does with emoji: leaves them out (`drop`), or says their short names (`name`). */
export type EmojiMode = 'drop' | 'name'

// The code points an emoji is written with: pictographs, skin tones, flag letters, the joiner,
// variation selectors, the keycap mark and the tag letters of subdivision flags.
const EMOJI_POINT = String.raw`\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u200D\uFE0E\uFE0F\u20E3\u{E0020}-\u{E007F}]`

/**
 * One code point an emoji is written with, at `lastIndex`; not `🔟`, which is read as a number.
 * Sticky, for scanners that step over emoji (the sentence splitter).
 */
export const EMOJI_PIECE = new RegExp(String.raw`(?!\u{1F51F})(?:${EMOJI_POINT})`, 'uy')

// espeak-ng names every pictograph it meets ("segno di spunta", "heavy check mark"), which no
// person reading a reply aloud would do. Joiners, skin tones and variation selectors go with them.
const PICTOGRAPH_RUN = new RegExp(`(?:${EMOJI_POINT})+`, 'gu')
const NOT_SPACE = /\S/

// A keycap is read as what is printed on it: "1️⃣" → "1", "🔟" → "10". Keycaps side by side are
// digits apart ("1️⃣2️⃣3️⃣" is a list, not 123); "#️⃣" and "*️⃣" are left out, as `#` and `*` are.
const KEYCAP = /(?:([0-9])|[#*])\uFE0F?\u20E3|\u{1F51F}\uFE0F?/gu
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u

/** Replaces keycaps in `text` with the number printed on them, apart from a digit or word next to them. */
export function speakKeycaps(text: string): string {
  return text.replace(KEYCAP, (keycap: string, digit: string | undefined, offset: number) => {
    const said = keycap.startsWith('\u{1F51F}') ? '10' : (digit ?? '')
    if (said === '') return ' '
    const previous = text[offset - 1] ?? ''
    // After a keycap's mark (a keycap before this one) too: "1️⃣2️⃣" is "1 2".
    const before = previous === '\u20E3' || LETTER_OR_DIGIT.test(previous) ? ' ' : ''
    const after = LETTER_OR_DIGIT.test(text[offset + keycap.length] ?? '') ? ' ' : ''
    return `${before}${said}${after}`
  })
}

// Symbols outside the emoji set that espeak-ng also names: arrows, box drawing, geometric shapes,
// dingbats and stars. Arrows stand between two things, so they become a pause.
const ARROWS = /\s*(?:[\u2190-\u21FF\u27F0-\u27FF\u2900-\u297F]|->|=>|<-)\s*/g
const SHAPES = /[\u2500-\u27BF\u2B00-\u2BFF]/g

/** Removes emoji and pictographic symbols from `text`. */
export function dropPictographs(text: string): string {
  return text
    .replace(PICTOGRAPH_RUN, (run: string, offset: number) =>
      // An emoji that stood between two words ("Ok!🎉See") leaves them apart.
      NOT_SPACE.test(text[offset - 1] ?? ' ') && NOT_SPACE.test(text[offset + run.length] ?? ' ') ? ' ' : '',
    )
    .replace(ARROWS, ', ')
    .replace(SHAPES, ' ')
}

// One emoji as written: a flag, or a pictograph with its presentation selector, skin tone, tag
// letters (the flags of England, Scotland, Wales) and the pictographs joined to it by U+200D.
const PART = String.raw`\p{Extended_Pictographic}[\uFE0E\uFE0F]?\p{Emoji_Modifier}?\uFE0F?`
const ONE = String.raw`\p{Regional_Indicator}{2}|${PART}(?:[\u{E0020}-\u{E007E}]+\u{E007F})?(?:\u200D${PART})*`
const EMOJI = new RegExp(ONE, 'gu')
// Emoji side by side, or apart only by spaces, are named together: "🔥🔥🔥" is one "fire".
const RUN = new RegExp(String.raw`(?:${ONE})(?:\s*(?:${ONE}))*`, 'gu')
const KEY_NOISE = /[\uFE0E\uFE0F\u{1F3FB}-\u{1F3FF}]/gu
// What a sentence ends with; emoji after it are a sentence of their own.
const STOP = /[.!?…]/
// Marks next to which a name needs no comma: it already has a pause, or a bracket holds it.
const PAUSE_BEFORE = /[,;:([{«“‘¿¡]/
const PAUSE_AFTER = /[.!?…,;:)\]}»”’]/
// What opens a new sentence after emoji that follow a sentence end, as the sentence splitter of
// stream() sees it: a capital, or a quote, bracket or markup before one. Anything else goes on
// with the names ("Fatto. ✅ grazie" → "Fatto. Segno di spunta, grazie").
const NEW_SENTENCE = /[\p{Lu}*_["'(«“‘¿¡]/u

/** The first character of `text` from `from` that is not a space, going by `step`; '' if none. */
function neighbour(text: string, from: number, step: 1 | -1): string {
  for (let i = from; i >= 0 && i < text.length; i += step) {
    const char = text[i] as string
    if (!/\s/.test(char)) return char
  }
  return ''
}

const tables = new Map<string, ReadonlyMap<string, string>>()

/**
 * The emoji names of `language` (`en`, `it`), parsed from the generated table on first use, or
 * undefined for a language without names.
 */
export function emojiNames(language: string): ReadonlyMap<string, string> | undefined {
  const cached = tables.get(language)
  if (cached !== undefined) return cached
  const names = Object.hasOwn(EMOJI_NAMES, language) ? EMOJI_NAMES[language] : undefined
  if (names === undefined) return undefined
  const keys = EMOJI_KEYS.split(' ')
  const table = new Map<string, string>()
  names.split('|').forEach((name, i) => {
    if (name !== '') table.set(keys[i] as string, name)
  })
  tables.set(language, table)
  return table
}

/**
 * Replaces each emoji in `text` with its name from `names`, set apart by commas from the words,
 * numbers and symbols next to it so the sentence still reads well ("Fatto ✅" → "Fatto, segno di
 * spunta"). Emoji that follow a sentence end, or open the text, start a sentence: their name is
 * capitalised and, before a new sentence, ends with a stop of its own ("Fatto. ✅ Poi" → "Fatto.
 * Segno di spunta. Poi"). The same emoji repeated is named once; an emoji without a name is
 * dropped. Skin tones are not said. Leaves keycaps to {@link speakKeycaps} and arrows and stray
 * marks to {@link dropPictographs}.
 */
export function namePictographs(text: string, names: ReadonlyMap<string, string>): string {
  return text.replace(RUN, (run: string, offset: number) => {
    const said: string[] = []
    for (const [emoji] of run.matchAll(EMOJI)) {
      const name = names.get(emoji.replace(KEY_NOISE, ''))
      if (name !== undefined && !said.includes(name)) said.push(name)
    }
    if (said.length === 0) return ' '
    const previous = neighbour(text, offset - 1, -1)
    const next = neighbour(text, offset + run.length, 1)
    const opens = previous === '' || STOP.test(previous)
    let spoken = said.join(', ')
    if (opens) spoken = `${spoken.charAt(0).toUpperCase()}${spoken.slice(1)}`
    const before = opens || PAUSE_BEFORE.test(previous) ? ' ' : ', '
    let after = ', '
    if (next === '' || PAUSE_AFTER.test(next)) after = ' '
    else if (opens && NEW_SENTENCE.test(next)) after = '. '
    return `${before}${spoken}${after}`
  })
}
