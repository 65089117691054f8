/** How large a scale word or suffix makes a sum: "$2.5 billion", "$1.07M", "€1,5 mln". */
export type Scale = 'thousand' | 'million' | 'billion' | 'trillion'

// What changes from one language to the next when a reply is made speakable: the order of day and
// month, the words for money, times and omitted code. Languages without an entry here still get
// the language-neutral clean-up (Markdown, links, emoji, punctuation).

/** A currency, as a reader of the language says it. */
export interface CurrencyWords {
  one: string
  many: string
  centOne: string
  centMany: string
}

/** The countries written before `$`: United States, Australia, Canada, New Zealand, Hong Kong, Singapore. */
export type DollarCountry = 'US' | 'A' | 'C' | 'NZ' | 'HK' | 'S'

/** The conventions of one language, as far as reading a reply aloud needs them. */
export interface SpeechConventions {
  /** `3/4/2025` is 3 April (true) or 4 March (false) when both readings are possible. */
  dayFirst: boolean
  /** The separator the language writes between integer and decimal part. */
  decimal: ',' | '.'
  months: readonly string[]
  /** What is said in place of a fenced code block. */
  codeOmitted: string
  /** Joins the units and cents of a sum: "3 euro e 50 centesimi". */
  and: string
  /** What is said for `@` in an e-mail address. */
  at: string
  /** What is said for `/` between two words. */
  or: string
  /** What is said for `~` before a number. */
  about: string
  /** What is said for `/` between two numbers (`5/5`). */
  over: string
  /** How `24/7` is said. */
  allDay: string
  currencies: Readonly<Record<'€' | '$' | '£', CurrencyWords>>
  /**
   * The dollars written with a country before the sign (`US$5`, `A$20`, `C$15`): a reader names
   * the country, since a bare "dollars" would be the wrong currency.
   */
  dollars: Readonly<Record<DollarCountry, CurrencyWords>>
  /** A sum with a scale word: "2.5 billion dollars", "1,5 milioni di dollari". */
  scaled(value: string, scale: Scale, currency: CurrencyWords): string
  /** A date, with day and month already checked; `year` is empty for a date without one. */
  date(day: number, month: number, year: string): string
  /** Words before a span of numbers that make it "between 10 and 12". */
  betweenLead: RegExp
  /**
   * Words before a day and month without a year that make them a date ("on", "due:", "entro",
   * "lunedì"), tested on the few characters before the pair.
   */
  dateLead: RegExp
  /**
   * Of those, the ones that also come before a quantity ("cut by 1/2"): after them a half, a third
   * or a quarter stays a fraction. Absent where every date word is a date word only.
   */
  quantityLead?: RegExp
  /** What may stand between a day and month read as a date and the next one ("to", " e "). */
  dateJoin: RegExp
  /** A time of day, with hours and minutes already checked. */
  time(hours: number, minutes: number): string
  /**
   * Words after which `H.MM` is a time of day ("alle 9.30"), in a language that also writes times
   * with a dot; tested on the few characters before the number. Absent where a dot in a number is
   * never a time.
   */
  dottedTimeLead?: RegExp
  /**
   * Two times of day as a span ("dalle 9 alle 13"), both already spoken; `lead` is the word the
   * text put before them ("from", "between", "dalle", "tra le"), in lower case, if any.
   */
  timeSpan(from: string, to: string, lead: string | undefined): string
  /** A simple fraction before a word ("3/4 cup"), or undefined when it is better left alone. */
  fraction(numerator: number, denominator: number, next: string): string | undefined
  /** A whole number and a proper half, third or quarter ("1 1/2"): "1 and a half", "1 e mezzo". */
  mixed(whole: string, numerator: number, denominator: number): string
  /** "Celsius", "Fahrenheit" after `degrees`. */
  scales: Readonly<Record<'C' | 'F', string>>
  /** What joins the two ends of a span of numbers: "10 to 12". */
  to: string
  /**
   * Two dates written as a span (`12/24-12/31`), each already spoken by `date`; `before` is the
   * text just before the span (an Italian "dal" there is not said twice).
   */
  dateSpan(from: string, to: string, before: string): string
  /** What is said for `/` after a quantity: "850 euro al mese", "1200 dollars per month". */
  per: string
  /** `1°`, `2ª` as words, or undefined when there is no easy word. */
  ordinal(value: number, feminine: boolean): string | undefined
  /** What is said for `°C` / `°F`. */
  degrees: string
  /** What is said for `n°` / `n.` before a number. */
  number: string
}

const italianOrdinals = [
  'primo',
  'secondo',
  'terzo',
  'quarto',
  'quinto',
  'sesto',
  'settimo',
  'ottavo',
  'nono',
  'decimo',
]

// A fraction is read as one only before "of" or a measure: "1/2 cup", but "step 1/2 done".
const ITALIAN_MEASURE =
  /^(?:di|del|dell|dello|della|dei|degli|delle|tazz[ae]|cucchiai\p{L}*|bicchier[ei]|litr[oi]|l|ml|kg|g|chil[oi]|ett[oi]|or[ae]|pollic[ei]|metr[oi]|m|km)$/iu
const ENGLISH_MEASURE =
  /^(?:of|cups?|teaspoons?|tablespoons?|tsp|tbsp|inch(?:es)?|in|f(?:oo|ee)t|ft|miles?|mi|pounds?|lbs?|oz|ounces?|kg|g|l|lit(?:er|re)s?|ml|gallons?|pints?|hours?|hrs?)$/i

const italianFractions: Readonly<Record<number, readonly string[]>> = {
  2: ['mezzo'],
  3: ['un terzo', 'due terzi'],
  4: ['un quarto', 'due quarti', 'tre quarti'],
}

const italianScales: Readonly<Record<Scale, readonly [string, string]>> = {
  thousand: ['mille', 'mila'],
  million: ['un milione', 'milioni'],
  billion: ['un miliardo', 'miliardi'],
  trillion: ['mille miliardi', 'mila miliardi'],
}

// Days said with a leading vowel: otto, undici (and 8 or 11 of a longer number never start one here).
const ITALIAN_VOWEL_DAY = /^(?:8|11)\b/

function italianFrom(date: string): string {
  return ITALIAN_VOWEL_DAY.test(date) ? `dall'${date}` : `dal ${date}`
}

function italianTo(date: string): string {
  return ITALIAN_VOWEL_DAY.test(date) ? `all'${date}` : `al ${date}`
}

function italianDollars(one: string, many: string): CurrencyWords {
  return { one: `dollaro ${one}`, many: `dollari ${many}`, centOne: 'centesimo', centMany: 'centesimi' }
}

function englishDollars(country: string): CurrencyWords {
  return { one: `${country} dollar`, many: `${country} dollars`, centOne: 'cent', centMany: 'cents' }
}

const italian: SpeechConventions = {
  dayFirst: true,
  decimal: ',',
  months:
    'gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre'.split(
      ' ',
    ),
  codeOmitted: 'Codice omesso.',
  and: 'e',
  at: 'chiocciola',
  or: 'o',
  about: 'circa',
  over: 'su',
  allDay: '24 su 7',
  currencies: {
    '€': { one: 'euro', many: 'euro', centOne: 'centesimo', centMany: 'centesimi' },
    $: { one: 'dollaro', many: 'dollari', centOne: 'centesimo', centMany: 'centesimi' },
    '£': { one: 'sterlina', many: 'sterline', centOne: 'penny', centMany: 'penny' },
  },
  dollars: {
    US: italianDollars('statunitense', 'statunitensi'),
    A: italianDollars('australiano', 'australiani'),
    C: italianDollars('canadese', 'canadesi'),
    NZ: italianDollars('neozelandese', 'neozelandesi'),
    HK: italianDollars('di Hong Kong', 'di Hong Kong'),
    S: italianDollars('di Singapore', 'di Singapore'),
  },
  // "un milione di dollari": "1 milione" would be read "uno milione".
  scaled(value, scale, currency) {
    const [one, many] = italianScales[scale]
    return value === '1' ? `${one} di ${currency.many}` : `${value} ${many} di ${currency.many}`
  },
  // The first of the month is "primo" in Italian ("il primo maggio"), every other day a cardinal.
  date: (day, month, year) =>
    `${day === 1 ? 'primo' : day} ${italian.months[month - 1]}${year === '' ? '' : ` ${year}`}`,
  // "Scadenza: 31/12", "lunedì 3/4", "ven. 20/12". Every one of them leads a date, never a quantity.
  dateLead:
    /\b(?:(?:il|dal|al|entro|del|scadenza):?|(?:lun|mar|mer|gio|ven|sab|dom)\.?|(?:(?:lun|mart|merc|giov|vener)ed[iì]|sabato|domenica),?)\s$/i,
  dateJoin: /^\s(?:al|e|o)\s$/i,
  betweenLead: /\b(?:tra|fra)\s$/i,
  time: (hours, minutes) => (minutes === 0 ? `${hours}` : `${hours} e ${minutes}`),
  // "alle 9.30" is a time; read as a number it would be "nove virgola trenta".
  dottedTimeLead: /\b(?:alle|dalle|ore)\s$/i,
  timeSpan: (from, to, lead) =>
    lead === 'tra le' || lead === 'fra le' ? `${lead} ${from} e le ${to}` : `dalle ${from} alle ${to}`,
  // "mezza tazza", "mezzo litro": the gender is guessed from the word that follows.
  fraction(numerator, denominator, next) {
    if (!ITALIAN_MEASURE.test(next)) return undefined
    if (denominator === 2) return numerator === 1 ? (/a$/i.test(next) ? 'mezza' : 'mezzo') : undefined
    return italianFractions[denominator]?.[numerator - 1]
  },
  // "uno e mezzo": the number, not a measure, so "mezzo" whatever follows.
  mixed: (whole, numerator, denominator) =>
    `${whole} e ${(italianFractions[denominator] as readonly string[])[numerator - 1]}`,
  scales: { C: 'Celsius', F: 'Fahrenheit' },
  to: 'a',
  // "dal 24 dicembre al 31 dicembre", with the elision before a vowel: "dall'8", "all'11".
  dateSpan: (from, to, before) => `${/\bdal\s$/i.test(before) ? from : italianFrom(from)} ${italianTo(to)}`,
  per: 'al',
  ordinal(value, feminine) {
    const word = italianOrdinals[value - 1]
    return word === undefined ? undefined : feminine ? `${word.slice(0, -1)}a` : word
  },
  degrees: 'gradi',
  number: 'numero',
}

function englishOrdinal(value: number): string {
  const tens = value % 100
  if (tens >= 11 && tens <= 13) return `${value}th`
  return `${value}${['th', 'st', 'nd', 'rd'][value % 10] ?? 'th'}`
}

const englishFractions: Readonly<Record<number, readonly string[]>> = {
  2: ['one half'],
  3: ['one third', 'two thirds'],
  4: ['one quarter', 'two quarters', 'three quarters'],
}

// After a whole number: "1 and a half", "2 and three quarters".
const englishParts: Readonly<Record<number, readonly string[]>> = {
  2: ['a half'],
  3: ['a third', 'two thirds'],
  4: ['a quarter', 'two quarters', 'three quarters'],
}

const englishBase = {
  decimal: '.',
  months: 'January February March April May June July August September October November December'.split(' '),
  codeOmitted: 'Code omitted.',
  and: 'and',
  at: 'at',
  or: 'or',
  about: 'about',
  over: 'out of',
  allDay: '24 7',
  currencies: {
    '€': { one: 'euro', many: 'euros', centOne: 'cent', centMany: 'cents' },
    $: { one: 'dollar', many: 'dollars', centOne: 'cent', centMany: 'cents' },
    '£': { one: 'pound', many: 'pounds', centOne: 'penny', centMany: 'pence' },
  },
  dollars: {
    US: englishDollars('US'),
    A: englishDollars('Australian'),
    C: englishDollars('Canadian'),
    NZ: englishDollars('New Zealand'),
    HK: englishDollars('Hong Kong'),
    S: englishDollars('Singapore'),
  },
  scaled: (value: string, scale: Scale, currency: CurrencyWords) => `${value} ${scale} ${currency.many}`,
  // "Due: 12/31", "Monday 3/4", "Fri. 12/20", "Tuesday, 1/7".
  dateLead:
    /\b(?:(?:on|by|until|till|from|since|before|after|through|due|deadline):?|(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?|(?:mon|tues|wednes|thurs|fri|satur|sun)day,?)\s$/i,
  quantityLead: /\b(?:by|from|after|before)\s$/i,
  dateJoin: /^\s(?:to|and|or|through|until)\s$/i,
  betweenLead: /\bbetween\s$/i,
  // "9 o'clock", "9 oh 5", "14 30": how the clock is read, on a 12- or 24-hour dial alike.
  time: (hours: number, minutes: number) =>
    minutes === 0 ? `${hours} o'clock` : minutes < 10 ? `${hours} oh ${minutes}` : `${hours} ${minutes}`,
  timeSpan: (from: string, to: string, lead: string | undefined) =>
    lead === 'between' ? `between ${from} and ${to}` : `${lead === 'from' ? 'from ' : ''}${from} to ${to}`,
  fraction: (numerator: number, denominator: number, next: string) =>
    ENGLISH_MEASURE.test(next) ? englishFractions[denominator]?.[numerator - 1] : undefined,
  mixed: (whole: string, numerator: number, denominator: number) =>
    `${whole} and ${(englishParts[denominator] as readonly string[])[numerator - 1]}`,
  scales: { C: 'Celsius', F: 'Fahrenheit' },
  to: 'to',
  dateSpan: (from: string, to: string) => `${from} to ${to}`,
  per: 'per',
  ordinal: () => undefined,
  degrees: 'degrees',
  number: 'number',
} as const

const british: SpeechConventions = {
  ...englishBase,
  dayFirst: true,
  date: (day, month, year) =>
    `the ${englishOrdinal(day)} of ${englishBase.months[month - 1]}${year === '' ? '' : ` ${year}`}`,
}

const american: SpeechConventions = {
  ...englishBase,
  dayFirst: false,
  date: (day, month, year) =>
    `${englishBase.months[month - 1]} ${englishOrdinal(day)}${year === '' ? '' : `, ${year}`}`,
}

/**
 * The conventions for a language code such as `it`, `it-IT`, `en-US` or `en_gb`, or undefined when
 * only the language-neutral clean-up applies. Plain `en` is British English, as in espeak-ng.
 */
export function speechConventions(language: string): SpeechConventions | undefined {
  const [primary, region] = language.toLowerCase().replaceAll('_', '-').split('-')
  if (primary === 'it') return italian
  if (primary === 'en') return region === 'us' ? american : british
  return undefined
}
