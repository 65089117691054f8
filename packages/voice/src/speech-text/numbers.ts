import type { CurrencyWords, SpeechConventions } from './language.js'

// espeak-ng reads digits well but not the marks around them: "3/4/2025" becomes "tre barra quattro
// barra duemila venticinque", "€3.50" becomes "euro tre punto cinquanta". Each rule below rewrites
// one kind of figure into the words a reader of the language would use, leaving the digits to the
// engine (it says them correctly in every language it knows).

const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b(?!-)/g
const DATE = /\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\b(?![.-]\d)/g
const CLOCK = String.raw`\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)`
const TIME = new RegExp(CLOCK, 'g')
// "9:30-13:00"; an Italian reply may already say "dalle" before it.
const TIME_SPAN = new RegExp(String.raw`(?:\b(?:dalle|from)\s)?${CLOCK}\s?[-–]\s?${CLOCK}`, 'gi')
// "10-12", "2020-2025": small numbers or years only, rising, so that phone numbers stay as written.
const SPAN = /(?<![\d/-]|\d[.,])(\d{1,3}|(?:19|20)\d\d)\s?[-–]\s?(\d{1,3}|(?:19|20)\d\d)(?![\d/-]|[.,]\d)/g
const AMOUNT = String.raw`\d{1,3}(?:[.,\u00A0\u202F]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`
// A sum may be per something: "€5/kg", "1200 €/mese".
const PER = String.raw`(?:\s?\/\s?(\p{L}+))?`
const MONEY_BEFORE = new RegExp(String.raw`([€$£])\s?(${AMOUNT})\b${PER}`, 'gu')
const MONEY_AFTER = new RegExp(String.raw`\b(${AMOUNT})\s?([€$£])${PER}`, 'gu')
// A unit per unit after a number: "80 km/h", "9,8 m/s".
const UNIT_PER_UNIT =
  /(\d\s?(?:[kcm]?m|[km]?g|m?l|[kMG]?b|[kMG]?B|[kM]?W|kWh|min|h|s))\/(h|s|min|kg|g|l|m)\b/g
const PERCENT = /(\d)\s+%/g
const DEGREES = /(\d)\s?°\s?([CF])\b/g
const ORDINAL = /\b(\d{1,2})([°ºª])(?!\s?[CF]\b)/g
const NUMBER_SIGN = /\b[nN][°º.]\s?(?=\d)/g
const DOT_GROUPS = /^\d{1,3}((?:\.\d{3})+)(?:,\d+)?$/
const COMMA_GROUPS = /^\d{1,3}((?:,\d{3})+)(?:\.\d+)?$/
const POINT_DECIMAL = /^\d+\.(?:\d{1,2}|\d{4,})$/
const GROUPED = /(?<![\d.,])\d+(?:[.,]\d+)+(?![\d]|[.,]\d)/g

function validDate(day: number, month: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

/** A two-digit year as a reader expands it: "25" is 2025, "98" is 1998. */
function fullYear(year: string): string {
  if (year.length === 4) return year
  const value = Number(year)
  return String(value < 50 ? 2000 + value : 1900 + value)
}

function numericDate(match: string, a: string, b: string, year: string, c: SpeechConventions): string {
  const first = Number(a)
  const second = Number(b)
  // A part above 12 can only be the day; otherwise the language decides.
  const dayFirst = first > 12 ? true : second > 12 ? false : c.dayFirst
  const [day, month] = dayFirst ? [first, second] : [second, first]
  return validDate(day, month) ? c.date(day, month, fullYear(year)) : match
}

/** Splits an amount such as `1.234,50` or `1,234.50` into units and cents (undefined when none). */
function parseAmount(amount: string): [string, number | undefined] {
  const compact = amount.replace(/[\u00A0\u202F]/g, '')
  const cents = /[.,](\d{1,2})$/.exec(compact)
  const units = (cents === null ? compact : compact.slice(0, cents.index)).replace(/[.,]/g, '')
  if (cents === null) return [units, undefined]
  const digits = cents[1] as string
  return [units, Number(digits.length === 1 ? `${digits}0` : digits)]
}

function spokenMoney(amount: string, words: CurrencyWords, c: SpeechConventions): string {
  const [units, cents] = parseAmount(amount)
  const whole = `${units} ${Number(units) === 1 ? words.one : words.many}`
  if (cents === undefined || cents === 0) return whole
  const fraction = `${cents} ${cents === 1 ? words.centOne : words.centMany}`
  return Number(units) === 0 ? fraction : `${whole} ${c.and} ${fraction}`
}

function per(sum: string, unit: string | undefined, c: SpeechConventions): string {
  return unit === undefined ? sum : `${sum} ${c.per} ${unit}`
}

/**
 * A number with separators in the language's own convention, so that the engine reads it as one
 * number: thousands separators removed, the decimal mark the language's. Versions and addresses
 * such as `1.2.3` or `192.168.1.1` match neither convention and are left as they are.
 */
function groupedNumber(token: string, c: SpeechConventions): string {
  const own = c.decimal === ',' ? DOT_GROUPS : COMMA_GROUPS
  const other = c.decimal === ',' ? COMMA_GROUPS : DOT_GROUPS
  const thousands = c.decimal === ',' ? '.' : ','
  const groups = own.exec(token)
  if (groups !== null) return token.replaceAll(thousands, '')
  // The other convention, when it cannot be misread: two or more thousands groups.
  const foreign = other.exec(token)
  if (foreign !== null && (foreign[1] as string).length > 4) {
    return token.replaceAll(c.decimal, '').replace(thousands, c.decimal)
  }
  // Italian text often has an English decimal point ("3.5"): one that cannot be a thousands
  // separator (not followed by exactly 3 digits) becomes the comma espeak-ng reads as "virgola".
  if (c.decimal === ',' && POINT_DECIMAL.test(token)) return token.replace('.', ',')
  return token
}

/** Rewrites dates, times, sums of money, percentages, ordinals and grouped numbers for speech. */
export function speakNumbers(text: string, c: SpeechConventions): string {
  if (!/\d/.test(text)) return text
  return text
    .replace(ISO_DATE, (match, year: string, month: string, day: string) =>
      validDate(Number(day), Number(month)) ? c.date(Number(day), Number(month), year) : match,
    )
    .replace(DATE, (match, a: string, _separator: string, b: string, year: string) =>
      numericDate(match, a, b, year, c),
    )
    .replace(TIME_SPAN, (_, h1: string, m1: string, h2: string, m2: string) =>
      c.timeSpan(c.time(Number(h1), Number(m1)), c.time(Number(h2), Number(m2))),
    )
    .replace(TIME, (_, hours: string, minutes: string) => c.time(Number(hours), Number(minutes)))
    .replace(SPAN, (match, from: string, to: string) =>
      Number(to) > Number(from) ? `${from} ${c.to} ${to}` : match,
    )
    .replace(MONEY_BEFORE, (_, symbol: '€' | '$' | '£', amount: string, unit?: string) =>
      per(spokenMoney(amount, c.currencies[symbol], c), unit, c),
    )
    .replace(MONEY_AFTER, (_, amount: string, symbol: '€' | '$' | '£', unit?: string) =>
      per(spokenMoney(amount, c.currencies[symbol], c), unit, c),
    )
    .replace(UNIT_PER_UNIT, `$1 ${c.per} $2`)
    .replace(PERCENT, '$1%')
    .replace(DEGREES, (_, digit: string) => `${digit} ${c.degrees}`)
    .replace(ORDINAL, (match, value: string, mark: string) => c.ordinal(Number(value), mark === 'ª') ?? match)
    .replace(NUMBER_SIGN, `${c.number} `)
    .replace(GROUPED, (token) => groupedNumber(token, c))
}
