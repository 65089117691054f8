import type { SpeechConventions } from './language.js'

// Marks that an engine spells out ("slash", "barra", "cancelletto") or that make it stop for too
// long, mapped to what a person reading aloud does: a pause, a word, or nothing.

/** Words for the few marks that stand for a word; absent for languages without conventions. */
type Words = Pick<SpeechConventions, 'or' | 'over' | 'allDay' | 'about' | 'and'>

// A shell variable, `$HOME`, `${USER}`, with the path after it (`$HOME/.config`): read by its name
// and the path's words, as in inline code, since the engine would say "dollar HOME". Sums of money
// were read before this runs; a `$` after a letter, a digit or a backslash is left alone.
const VARIABLE = /(?<![\p{L}\p{N}_$\\])\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))((?:\/[\w-]*(?:\.[\w-]+)*)*)/gu
const REPEATED = /([!?])[!?]+/g
const ELLIPSIS = /(?:\.{4,}|…)/g
const DASH = /\s+[-–—―]{1,2}\s+|(?<=\p{L})[—―](?=\p{L})/gu
const PAUSE = /\s*[|•·▪‣◦]\s*/g
const SLASH_WORDS = /(?<=\p{L})\s?\/\s?(?=\p{L})/gu
const SLASH_NUMBERS = /(?<=\d)\s?\/\s?(?=\d)/g
const TILDE_NUMBER = /~\s?(?=\d)/g
const AMPERSAND = /\s?&\s?/g
const UNDERSCORE = /_+/g
const SPELLED = /[*#~`\\^{}[\]@/]/g

function variableWords(
  _: string,
  braced: string | undefined,
  bare: string | undefined,
  path: string,
): string {
  return `${braced ?? bare}${path.replace(/[/.]+/g, ' ').trimEnd()}`
}

/** Maps spelled-out marks to pauses or words in `text`. */
export function speakPunctuation(text: string, words: Words | undefined): string {
  let out = text.includes('$') ? text.replace(VARIABLE, variableWords) : text
  out = out.replace(REPEATED, '$1').replace(ELLIPSIS, '...').replace(DASH, ', ').replace(PAUSE, ', ')
  out = out.replace(UNDERSCORE, ' ')
  if (words !== undefined) {
    out = out
      .replace(/\b24\/7\b/g, words.allDay)
      .replace(SLASH_NUMBERS, ` ${words.over} `)
      .replace(SLASH_WORDS, ` ${words.or} `)
      .replace(TILDE_NUMBER, `${words.about} `)
      .replace(AMPERSAND, ` ${words.and} `)
  }
  return out.replace(SPELLED, ' ')
}

/** Collapses spaces and the stray punctuation left where markup or symbols were removed. */
export function tidy(text: string): string {
  return (
    text
      .replace(/\s+/g, ' ')
      .replace(/\(\s*[,;.]?\s*\)/g, '')
      .replace(/\s+([,.;:!?)])/g, '$1')
      .replace(/([(])\s+/g, '$1')
      .replace(/,(?:\s*,)+/g, ',')
      .replace(/([.!?])\s*[,;:]/g, '$1')
      // A line that ended on an emoji got a stop of its own when its paragraph was joined.
      .replace(/([!?])\s*\.(?!\.)/g, '$1')
      .replace(/[,;:]+(?=[.!?])/g, '')
      .replace(/^[\s,;:.]+/, '')
      .trim()
      // The pause an arrow or a bar left at the very end would stand before the block's stop.
      .replace(/,$/, '')
  )
}
