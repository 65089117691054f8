import type { SpeechConventions } from './language.js'
import { speakMoney } from './money.js'

// espeak-ng reads digits well but not the marks around them: "3/4/2025" becomes "tre barra quattro
// barra duemila venticinque", "€3.50" becomes "euro tre punto cinquanta". Each rule below rewrites
// one kind of figure into the words a reader of the language would use, leaving the digits to the
// engine (it says them correctly in every language it knows).

const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b(?!-)/g
const DATE = /\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\b(?![.-]\d)/g
const CLOCK = String.raw`\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)`
const TIME = new RegExp(CLOCK, 'g')
// "9:30-13:00"; an Italian reply may already say "dalle" before it.
const TIME_SPAN = new RegExp(
  String.raw`(?:\b(dalle|from|between|tra le|fra le)\s)?${CLOCK}\s?[-–]\s?${CLOCK}`,
  'gi',
)
const MERIDIEM = /^\s?[ap]\.?m\b/i
// "alle 9.30": a time written with a dot, read as one only after the language's `dottedTimeLead`
// words, and not before a sum's or a measure's sign or word ("alle 2.50 €" is money).
const DOTTED_TIME =
  /(?<![\d.,])([01]?\d|2[0-3])\.([0-5]\d)(?![\d]|[.,]\d|\s?(?:[€$£%°]|euro\b|dollar|sterlin|cent))/gi
// "1 1/2 cups", "2 3/4 km": a whole number, one space, and a half, third or quarter.
const MIXED = /(?<![\d/.,:]|\d\s)(\d{1,3}) ([1-3])\/([234])(?![\d/]|[.,]\d)/g
// "1/2 cup", "3/4 di tazza": a simple fraction before a word. Not after a number ("1 1/2").
const FRACTION = /(?<![\d/.,]|\d\s)([1-3])\/([234])(?=\s(\p{L}+))/gu
// "on 12/31", "entro il 31/12": a day and month without a year.
const DAY_MONTH = /(?<![\d/.,:-])(\d{1,2})\/(\d{1,2})(?![\d/]|[.,]\d)/g
// "12/24-12/31", "24/12 – 31/12": two days and months as a span, a date without any lead word.
const DAY_MONTH_SPAN = /(?<![\d/.,:-])(\d{1,2})\/(\d{1,2})\s?[-–]\s?(\d{1,2})\/(\d{1,2})(?![\d/]|[.,]\d)/g
// How far back a word that makes a pair a date is looked for: "wednesday, " and "scadenza: " fit.
const LEAD_CHARS = 16
// "10-12", "2020-2025": small numbers or years only, rising, so that phone numbers stay as written.
const SPAN = /(?<![\d/-]|\d[.,])(\d{1,3}|(?:19|20)\d\d)\s?[-–]\s?(\d{1,3}|(?:19|20)\d\d)(?![\d/-]|[.,]\d)/g
// A unit per unit after a number: "80 km/h", "9,8 m/s".
const UNIT_PER_UNIT =
  /(\d\s?(?:[kcm]?m|[km]?g|m?l|[kMG]?b|[kMG]?B|[kM]?W|kWh|min|h|s))\/(h|s|min|kg|g|l|m)\b/g
const PERCENT = /(\d)\s+%/g
const DEGREES = /(\d)\s?°\s?([CF])\b/g
// Versions are read as written ("v2.0", "versione 2.0"), not as decimals.
const VERSION = String.raw`\b[vV]|\b[vV]ersion[ei]?\s`
const ORDINAL = /\b(\d{1,2})([°ºª])(?!\s?[CF]\b)/g
const NUMBER_SIGN = /\b[nN][°º.]\s?(?=\d)/g
const DOT_GROUPS = /^\d{1,3}((?:\.\d{3})+)(?:,\d+)?$/
const COMMA_GROUPS = /^\d{1,3}((?:,\d{3})+)(?:\.\d+)?$/
const POINT_DECIMAL = /^\d+\.(?:\d{1,2}|\d{4,})$/
const GROUPED = new RegExp(String.raw`(?<![\d.,]|${VERSION})\d+(?:[.,]\d+)+(?![\d]|[.,]\d)`, 'g')

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** True for a day that exists: no 30 February, and 29 February only in a leap year (or none given). */
function validDate(day: number, month: number, year?: string): boolean {
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= (MONTH_DAYS[month - 1] as number))) return false
  if (month !== 2 || day !== 29 || year === undefined) return true
  const value = Number(year)
  return value % 4 === 0 && (value % 100 !== 0 || value % 400 === 0)
}

/** A two-digit year as a reader expands it: "25" is 2025, "98" is 1998. */
function fullYear(year: string): string {
  if (year.length === 4) return year
  const value = Number(year)
  return String(value < 50 ? 2000 + value : 1900 + value)
}

function numericDate(
  match: string,
  a: string,
  separator: string,
  b: string,
  year: string,
  c: SpeechConventions,
): string {
  const first = Number(a)
  const second = Number(b)
  // A part above 12 can only be the day; otherwise the language decides.
  const dayFirst = first > 12 ? true : second > 12 ? false : c.dayFirst
  const [day, month] = dayFirst ? [first, second] : [second, first]
  const full = fullYear(year)
  if (validDate(day, month, full)) return c.date(day, month, full)
  // A day that does not exist ("2/30/2025") is not read as a date, nor as "2 out of 30".
  return separator === '/' ? `${a} ${b} ${year}` : match
}

/**
 * A day and month without a year, only where nothing else is meant: after a word such as "on",
 * "due:", "entro" or a day of the week (`before`), or `joined` to a day and month just read as a
 * date ("from 12/24 to 12/31"). The order is the one possible when a part is above 12, else the
 * language's; the day must exist. A half, third or quarter after a word that also leads quantities
 * ("cut by 1/2") stays a fraction.
 */
function dayMonth(
  match: string,
  a: string,
  b: string,
  before: string,
  joined: boolean,
  c: SpeechConventions,
): string {
  const first = Number(a)
  const second = Number(b)
  if (match === '24/7') return match
  if (!joined) {
    if (!c.dateLead.test(before)) return match
    if (first < second && second <= 4 && c.quantityLead?.test(before) === true) return match
  }
  const dayFirst = first > 12 ? true : second > 12 ? false : c.dayFirst
  const [day, month] = dayFirst ? [first, second] : [second, first]
  return validDate(day, month) ? c.date(day, month, '') : match
}

/**
 * Two days and months joined by a dash, read as a span of dates when both exist in one order
 * (the one possible when a part is above 12, else the language's) and the second comes later in
 * the year, or in the next January ("12/28-1/3"). Anything else (`1/2-3/4`, scores `3/5-4/5`
 * that fit no rising span) stays as written for the rules after it.
 */
function dateSpan(match: string, parts: readonly number[], before: string, c: SpeechConventions): string {
  const [a, b, x, y] = parts as [number, number, number, number]
  // Two fractions of one small denominator ("1/4-3/4", "3/5-4/5 of them") are not dates.
  if (b === y && b <= 5 && a < b && x < b) return match
  const dayFirst = a > 12 || x > 12 ? true : b > 12 || y > 12 ? false : c.dayFirst
  const [d1, m1, d2, m2] = dayFirst ? [a, b, x, y] : [b, a, y, x]
  if (!validDate(d1, m1) || !validDate(d2, m2)) return match
  const rising = m2 > m1 || (m2 === m1 && d2 > d1) || (m1 === 12 && m2 === 1)
  return rising ? c.dateSpan(c.date(d1, m1, ''), c.date(d2, m2, ''), before) : match
}

/** Upper-cases the first letter when the text's own lead word was capitalised ("Between"). */
function capitalLike(spoken: string, lead: string | undefined): string {
  return lead !== undefined && /^\p{Lu}/u.test(lead)
    ? `${spoken[0]?.toUpperCase()}${spoken.slice(1)}`
    : spoken
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

/** Mixed numbers, fractions and days of the month written with a slash. */
function slashed(text: string, c: SpeechConventions): string {
  // The end of the last pair read as a date, so that the pair after it in a range or list is one.
  let lastDate = -1
  return text
    .replace(MIXED, (match, whole: string, numerator: string, denominator: string) =>
      Number(numerator) < Number(denominator)
        ? c.mixed(whole, Number(numerator), Number(denominator))
        : match,
    )
    .replace(
      FRACTION,
      (match, numerator: string, denominator: string, next: string) =>
        c.fraction(Number(numerator), Number(denominator), next) ?? match,
    )
    .replace(
      DAY_MONTH_SPAN,
      (match, a: string, b: string, x: string, y: string, offset: number, whole: string) =>
        dateSpan(match, [a, b, x, y].map(Number), whole.slice(Math.max(0, offset - 4), offset), c),
    )
    .replace(DAY_MONTH, (match, a: string, b: string, offset: number, whole: string) => {
      const joined =
        lastDate >= 0 && offset - lastDate <= 10 && c.dateJoin.test(whole.slice(lastDate, offset))
      const spoken = dayMonth(match, a, b, whole.slice(Math.max(0, offset - LEAD_CHARS), offset), joined, c)
      if (spoken !== match) lastDate = offset + match.length
      return spoken
    })
}

/** Rewrites dates, times, sums of money, percentages, ordinals and grouped numbers for speech. */
export function speakNumbers(text: string, c: SpeechConventions): string {
  if (!/\d/.test(text)) return text
  const timed = text
    .replace(ISO_DATE, (match, year: string, month: string, day: string) =>
      validDate(Number(day), Number(month), year) ? c.date(Number(day), Number(month), year) : match,
    )
    .replace(DATE, (match, a: string, separator: string, b: string, year: string) =>
      numericDate(match, a, separator, b, year, c),
    )
    .replace(TIME_SPAN, (_, lead: string | undefined, h1: string, m1: string, h2: string, m2: string) =>
      capitalLike(
        c.timeSpan(c.time(Number(h1), Number(m1)), c.time(Number(h2), Number(m2)), lead?.toLowerCase()),
        lead,
      ),
    )
    .replace(TIME, (match, hours: string, minutes: string, offset: number, whole: string) =>
      // "8:00 PM" is "8 PM", not "8 o'clock PM".
      minutes === '00' && MERIDIEM.test(whole.slice(offset + match.length, offset + match.length + 6))
        ? String(Number(hours))
        : c.time(Number(hours), Number(minutes)),
    )
  const dotted = c.dottedTimeLead
  const clocked =
    dotted === undefined
      ? timed
      : timed.replace(DOTTED_TIME, (match, hours: string, minutes: string, offset: number, whole: string) =>
          dotted.test(whole.slice(Math.max(0, offset - 8), offset))
            ? c.time(Number(hours), Number(minutes))
            : match,
        )
  const dated = clocked.includes('/') ? slashed(clocked, c) : clocked
  const spanned = dated.replace(SPAN, (match, from: string, to: string, offset: number, whole: string) => {
    if (Number(to) <= Number(from)) return match
    // "between 10-12" is "between 10 and 12".
    const between = c.betweenLead.test(whole.slice(Math.max(0, offset - 8), offset))
    return `${from} ${between ? c.and : c.to} ${to}`
  })
  return speakMoney(spanned, c)
    .replace(UNIT_PER_UNIT, `$1 ${c.per} $2`)
    .replace(PERCENT, '$1%')
    .replace(DEGREES, (_, digit: string, scale: 'C' | 'F') => `${digit} ${c.degrees} ${c.scales[scale]}`)
    .replace(ORDINAL, (match, value: string, mark: string) => c.ordinal(Number(value), mark === 'ª') ?? match)
    .replace(NUMBER_SIGN, `${c.number} `)
    .replace(GROUPED, (token) => groupedNumber(token, c))
}
