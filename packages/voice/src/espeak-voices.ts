import { closest } from './closest.js'
import { describe } from './describe.js'
import { mistakenLanguage } from './mistaken-languages.js'

// The language codes and voice variants shipped with espeak-ng 1.51+ (both the WASM build and the
// Debian/Ubuntu package). Kept here so that a typo is rejected in the caller's stack, before a task
// is queued, instead of coming back from a worker thread.

/** Language codes understood by the built-in espeak-ng engines, lower case. */
export const ESPEAK_LANGUAGES: readonly string[] = (
  'af am an ar as az ba be bg bn bpy bs ca ca-ba ca-nw ca-va chr-us-qaaa-x-west cmn zh-cmn zh ' +
  'cmn-latn-pinyin cs cv cy da de el en-029 en en-gb en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd ' +
  'en-gb-x-rp en-us en-us-nyc eo es es-419 es-mx et eu fa fa-latn fi fo fr-be fr fr-ch fr-fr ga gd ' +
  'gn grc gu hak haw he hi hr hbs ht hu hy hy-arevela hyw hy-arevmda ia id io is it ja jbo ka kaa ' +
  'kk kl kn ko kok ku ky la lb lfn lt ltg lv mi mk ml mr ms mt mto my nb no nci ne nl nog om or pa ' +
  'pap piqd pl pt pt-pt pt-br py qdb qu quc qya ro ru ru-cl ru-lv sd shn si sjn sk sl smj sq sr sv ' +
  'sw ta te th ti tk tn tr tt ug uk ur uz vi vi-vn-x-central vi-vn-x-south xex yue zh-yue'
).split(' ')

/** Voice variants (the `+name` suffix of an espeak-ng voice), as spelled in espeak-ng's data. */
export const ESPEAK_VOICES: readonly string[] = (
  'Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene Gene2 Henrique Hugo Jacky ' +
  'Lee Marco Mario Michael Mike Nguyen RicishayMax RicishayMax2 RicishayMax3 Storm Tweaky UniRobot ' +
  'adam anika anikaRobot announcer antonio aunty belinda benjamin boris caleb croak david ed ' +
  'edward edward2 f1 f2 f3 f4 f5 fast grandma grandpa gustave iven iven2 iven3 iven4 john ' +
  'kaukovalta klatt klatt2 klatt3 klatt4 klatt5 klatt6 linda m1 m2 m3 m4 m5 m6 m7 m8 marcelo max ' +
  'michel miguel norbert pablo paul pedro quincy rob robert robosoft robosoft2 robosoft3 robosoft4 ' +
  'robosoft5 robosoft6 robosoft7 robosoft8 sandro shelby steph steph2 steph3 travis victor whisper ' +
  'whisperf zac'
).split(' ')

const languageSet = new Set(ESPEAK_LANGUAGES)
const voiceByLowerName = new Map(ESPEAK_VOICES.map((name) => [name.toLowerCase(), name]))

// Regions whose speech espeak-ng has under another code than the language's own.
const regionalLanguages: Readonly<Record<string, string>> = {
  // Latin American Spanish, as opposed to the Castilian of plain "es".
  ...Object.fromEntries(
    'ar bo cl co cr cu do ec gt hn ni pa pe pr py sv us uy ve'
      .split(' ')
      .map((region) => [`es-${region}`, 'es-419']),
  ),
  // Cantonese is what is spoken in Hong Kong and Macao.
  'zh-hk': 'yue',
  'zh-mo': 'yue',
}

/**
 * The espeak-ng language code for a code or BCP 47 tag (`it-IT` → `it`, `en_US` → `en-us`,
 * `zh-Hans-CN` → `zh`, the retired `iw` → `he`), or undefined when espeak-ng has no voice for the
 * language. Subtags are dropped from the end until espeak-ng knows the rest.
 */
export function findEspeakLanguage(tag: string): string | undefined {
  const subtags = tag.toLowerCase().replaceAll('_', '-').split('-')
  const found = longestKnownPrefix(subtags)
  if (found !== undefined) return found
  // Codes that were retired or have a shorter form (`iw`, `in`, `mo`, `sh`, `ita`) name the same
  // language as their replacement: old Java locales and ISO 639-2 lists still produce them.
  const preferred = canonicalLanguage(subtags[0] ?? '')
  return preferred === undefined ? undefined : longestKnownPrefix([...preferred, ...subtags.slice(1)])
}

function longestKnownPrefix(subtags: readonly string[]): string | undefined {
  for (let length = subtags.length; length > 0; length--) {
    const prefix = subtags.slice(0, length).join('-')
    const code = regionalLanguages[prefix] ?? prefix
    if (languageSet.has(code)) return code
  }
  return undefined
}

/** The subtags of the preferred form of a primary language subtag, when it has another one. */
function canonicalLanguage(primary: string): string[] | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(primary)
    return canonical === undefined || canonical.toLowerCase() === primary
      ? undefined
      : canonical.toLowerCase().split('-')
  } catch {
    return undefined
  }
}

/** The English name of a real language espeak-ng lacks (`fil` → Filipino), for the error. */
function languageName(primary: string): string | undefined {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' }).of(primary)
  } catch {
    return undefined
  }
}

/**
 * The espeak-ng language code for `language`, or the `TypeError`/`RangeError` that `VoiceSystem`
 * and `speechText` both throw: the nearest code for a typo, the language's name for one espeak-ng
 * has no voice for.
 */
export function checkEspeakLanguage(language: unknown): string {
  if (typeof language !== 'string' || language === '') {
    throw new TypeError(`language must be a non-empty string such as "it", got ${describe(language)}`)
  }
  const known = findEspeakLanguage(language)
  if (known !== undefined) return known
  const primary = language.toLowerCase().replaceAll('_', '-').split('-')[0] ?? ''
  const name = languageName(primary)
  let hint = name === undefined ? '' : ` (${name}), which espeak-ng has no voice for`
  // A country code or a language's name says which language was meant better than its spelling
  // does: "gr" is Greece, so "el", not "ar"; "se" is written for Sweden more often than for Sami.
  const mistaken = mistakenLanguage(primary)
  if (mistaken !== undefined) {
    hint += `: did you mean "${mistaken}" (${languageName(mistaken) ?? mistaken})?`
  } else if (name === undefined) {
    // A real language is not a typo of a neighbouring code: "fil" is Filipino, not Finnish misspelt.
    const nearest = closestEspeakLanguage(language)
    if (nearest !== undefined) hint += `: did you mean "${nearest}"?`
  }
  throw new RangeError(
    `language must be a language espeak-ng knows (e.g. "it", "it-IT", "en-us"; ${ESPEAK_LANGUAGES.length} in all), got ${describe(language)}${hint}`,
  )
}

/** The espeak-ng language code nearest to an unknown `tag`, for a "did you mean" hint. */
export function closestEspeakLanguage(tag: string): string | undefined {
  const language = tag.toLowerCase().replaceAll('_', '-').split('-')[0] ?? ''
  return closest(
    language,
    ESPEAK_LANGUAGES.filter((code) => !code.includes('-')),
  )
}

/** The voice variant as spelled in espeak-ng's data, or undefined when it does not exist. */
export function findEspeakVoice(name: string): string | undefined {
  return voiceByLowerName.get(name.toLowerCase())
}

/** espeak-ng's speaking-rate limits, in words per minute. */
export const ESPEAK_RATE_RANGE = { min: 80, max: 450 } as const
