import { EMOJI_KEYS, EMOJI_NAMES } from './emoji-names.js'

/** What `speechText` does with emoji: leaves them out (`drop`), or says their short names (`name`). */
export type EmojiMode = 'drop' | 'name'

// espeak-ng names every pictograph it meets ("segno di spunta", "heavy check mark"), which no
// person reading a reply aloud would do. Joiners, skin tones, variation selectors and the keycap
// mark go with them, so "1️⃣" keeps only its digit.
const PICTOGRAPHS =
  /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200D|[\uFE0E\uFE0F\u20E3\u{E0020}-\u{E007F}]/gu

// Symbols outside the emoji set that espeak-ng also names: arrows, box drawing, geometric shapes,
// dingbats and stars. Arrows stand between two things, so they become a pause.
const ARROWS = /\s*(?:[\u2190-\u21FF\u27F0-\u27FF\u2900-\u297F]|->|=>|<-)\s*/g
const SHAPES = /[\u2500-\u27BF\u2B00-\u2BFF]/g

/** Removes emoji and pictographic symbols from `text`. */
export function dropPictographs(text: string): string {
  return text.replace(PICTOGRAPHS, '').replace(ARROWS, ', ').replace(SHAPES, ' ')
}

// One emoji as written: a flag, or a pictograph with its presentation selector, skin tone, tag
// letters (the flags of England, Scotland, Wales) and the pictographs joined to it by U+200D.
const PART = String.raw`\p{Extended_Pictographic}[\uFE0E\uFE0F]?\p{Emoji_Modifier}?\uFE0F?`
const ONE = String.raw`\p{Regional_Indicator}{2}|${PART}(?:[\u{E0020}-\u{E007E}]+\u{E007F})?(?:\u200D${PART})*`
const EMOJI = new RegExp(ONE, 'gu')
// Emoji side by side, or apart only by spaces, are named together: "🔥🔥🔥" is one "fire".
const RUN = new RegExp(String.raw`(?:${ONE})(?:\s*(?:${ONE}))*`, 'gu')
const KEY_NOISE = /[\uFE0E\uFE0F\u{1F3FB}-\u{1F3FF}]/gu
const WORD_NEXT = /\s*[\p{L}\p{N}]/uy
const WORD_BEFORE = /[\p{L}\p{N}]\s*$/u

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
 * Replaces each emoji in `text` with its name from `names`, set apart by commas so the sentence
 * still reads well ("Fatto ✅" → "Fatto, segno di spunta"). The same emoji repeated is named
 * once; an emoji without a name is dropped. Skin tones are not said. Leaves keycaps, arrows and
 * stray marks to {@link dropPictographs}.
 */
export function namePictographs(text: string, names: ReadonlyMap<string, string>): string {
  return text.replace(RUN, (run: string, offset: number) => {
    const said: string[] = []
    for (const [emoji] of run.matchAll(EMOJI)) {
      const name = names.get(emoji.replace(KEY_NOISE, ''))
      if (name !== undefined && !said.includes(name)) said.push(name)
    }
    if (said.length === 0) return ' '
    // Commas set the names apart from words; next to a stop, a colon or a bracket, a space is enough.
    WORD_NEXT.lastIndex = offset + run.length
    const after = WORD_NEXT.test(text) ? ', ' : ' '
    const before = WORD_BEFORE.test(text.slice(Math.max(0, offset - 8), offset)) ? ', ' : ' '
    return `${before}${said.join(', ')}${after}`
  })
}
