import { describe, refusal } from '../describe.js'
import { checkEspeakLanguage } from '../espeak-voices.js'
import { checkOptionNames, checkOptionsObject } from '../known-options.js'
import { dropPictographs, type EmojiMode, emojiNames, namePictographs, speakKeycaps } from './emoji.js'
import { speechConventions } from './language.js'
import { shortenAddresses } from './links.js'
import { markdownBlocks, markdownInline } from './markdown.js'
import { speakNumbers } from './numbers.js'
import { speakPunctuation, tidy } from './punctuation.js'

/** Options of {@link speechText}. */
export interface SpeechTextOptions {
  /**
   * The language the text will be spoken in, as given to `VoiceSystem` (`it`, `en-us`, `it-IT`...).
   * Italian and English also get their conventions for dates, times, money and numbers (`en` and
   * `en-gb` read `3/4/2025` as 3 April, `en-us` as March 4); any other language gets the
   * language-neutral clean-up.
   * @default 'en'
   */
  language?: string
  /**
   * What is done with emoji: `'drop'` leaves them out; `'name'` says each one by its short name in
   * the language ("Fatto ✅" → "Fatto, segno di spunta."), once for a repeated one, without its skin
   * tone. Names exist for English and Italian (from the Unicode CLDR annotations); in other
   * languages, and for an emoji without a name, `'name'` drops them as `'drop'` does. Keycaps
   * (`1️⃣`, `🔟`) are read as their number either way.
   * @default 'drop'
   */
  emoji?: EmojiMode
}

const EMOJI_MODES: readonly EmojiMode[] = ['drop', 'name']
const OPTION_NAMES: readonly (keyof SpeechTextOptions)[] = ['language', 'emoji']

/** Checks the `emoji` option (of speechText and of VoiceSystem alike). */
export function checkEmoji(value: unknown): EmojiMode {
  if (!EMOJI_MODES.includes(value as EmojiMode)) {
    throw refusal(value, 'string', `emoji must be "drop" or "name", got ${describe(value)}`)
  }
  return value as EmojiMode
}

const LANGUAGE_TAG = /^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$/i

/** True for a language code `speechText` accepts (`it`, `en-US`, `pt_br`). */
export function isLanguageCode(language: string): boolean {
  return LANGUAGE_TAG.test(language)
}

/** `it` for `it-IT`, `en` for `EN_us`. */
function primaryLanguage(language: string): string {
  return (language.split(/[-_]/)[0] as string).toLowerCase()
}

/**
 * Turns a chat reply written in Markdown into the text a person would read aloud: no markup,
 * links by their text, web addresses by their host, no emoji, no fenced code, and dates, times,
 * money and numbers in the words of the language. Pure and synchronous; returns `''` when nothing
 * is left to say.
 * @example
 * ```ts
 * import { speechText } from '@taurobot/voice'
 * speechText('**Certo!** Apri https://example.com/guida ✅', { language: 'it' }) // 'Certo! Apri example.com.'
 * ```
 */
export function speechText(text: string, options: SpeechTextOptions = {}): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`)
  checkOptionsObject(options, 'speechText')
  checkOptionNames(options, OPTION_NAMES, 'speechText()')
  const language = options.language ?? 'en'
  // The languages VoiceSystem accepts, with the same error: a code that would be refused there is
  // not quietly given the language-neutral clean-up here.
  checkEspeakLanguage(language)
  return readAloud(text, language, checkEmoji(options.emoji ?? 'drop'))
}

/**
 * {@link speechText} without its checks, for `VoiceSystem`, whose custom engines may speak
 * languages espeak-ng lacks: a `language` without conventions gets the language-neutral clean-up.
 */
export function readAloud(text: string, language: string, emoji: EmojiMode): string {
  const conventions = speechConventions(language)
  // Names in the reply's language or none: an English word inside Italian speech is not better.
  const names = emoji === 'name' ? emojiNames(primaryLanguage(language)) : undefined
  // Without a word for it, the `@` of an address is left out like any other spelled mark.
  const at = conventions?.at ?? '@'
  const shorten = (value: string) => shortenAddresses(value, at)
  const sentences: string[] = []
  for (const block of markdownBlocks(text, conventions?.codeOmitted)) {
    let spoken = block.literal === true ? block.text : markdownInline(block.text, shorten)
    spoken = speakKeycaps(spoken)
    if (names !== undefined) spoken = namePictographs(spoken, names)
    spoken = dropPictographs(spoken)
    if (conventions !== undefined) spoken = speakNumbers(spoken, conventions)
    spoken = tidy(speakPunctuation(spoken, conventions))
    if (!/[\p{L}\p{N}]/u.test(spoken)) continue
    // Every block ends on a stop, so headings, list items and table rows are heard apart.
    sentences.push(/[.!?…:;]$/.test(spoken) ? spoken : `${spoken}.`)
  }
  return sentences.join(' ')
}
