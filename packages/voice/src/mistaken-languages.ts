// Codes people write for a language that are not its code: a country's code (`gr` for Greece,
// whose language is `el`) or the language's English name. A spelling-distance search gets these
// wrong (`gr` is one letter from `ar`, Arabic), so they are looked up here first.

/** The espeak-ng language code meant by a country code or a language name that is not one. */
const mistakenLanguages: Readonly<Record<string, string>> = {
  // Country codes of countries whose language has another code.
  al: 'sq',
  at: 'de',
  by: 'be',
  cn: 'zh',
  cz: 'cs',
  dk: 'da',
  ee: 'et',
  gb: 'en-gb',
  ge: 'ka',
  gr: 'el',
  il: 'he',
  ir: 'fa',
  jp: 'ja',
  kr: 'ko',
  kz: 'kk',
  np: 'ne',
  pk: 'ur',
  rs: 'sr',
  se: 'sv',
  ua: 'uk',
  us: 'en-us',
  vn: 'vi',
  // English names of languages.
  arabic: 'ar',
  cantonese: 'yue',
  catalan: 'ca',
  chinese: 'zh',
  croatian: 'hr',
  czech: 'cs',
  danish: 'da',
  dutch: 'nl',
  english: 'en',
  farsi: 'fa',
  finnish: 'fi',
  french: 'fr',
  german: 'de',
  greek: 'el',
  hebrew: 'he',
  hindi: 'hi',
  hungarian: 'hu',
  indonesian: 'id',
  italian: 'it',
  japanese: 'ja',
  korean: 'ko',
  mandarin: 'cmn',
  norwegian: 'nb',
  persian: 'fa',
  polish: 'pl',
  portuguese: 'pt',
  romanian: 'ro',
  russian: 'ru',
  serbian: 'sr',
  slovak: 'sk',
  spanish: 'es',
  swedish: 'sv',
  turkish: 'tr',
  ukrainian: 'uk',
  vietnamese: 'vi',
}

/** The language code meant by `primary` (a lower-case first subtag), when it is a known mistake. */
export function mistakenLanguage(primary: string): string | undefined {
  return Object.hasOwn(mistakenLanguages, primary) ? mistakenLanguages[primary] : undefined
}

/** Every mistake and the code it maps to, for the tests that check each code exists. */
export function mistakenLanguageEntries(): [string, string][] {
  return Object.entries(mistakenLanguages)
}
