import type { CurrencyWords, DollarCountry, Scale, SpeechConventions } from './language.js'

// Sums of money: "€3.50", "3,50 €", "$1,234.50", "$3.499", "$2.5 billion", "$1.07M", "€2.5k". The
// digits are found by one loose pattern and then read by the language's own convention, because
// the same "1.500" is fifteen hundred in Italian and one and a half in English.

const SCALES: Readonly<Record<string, Scale>> = {
  k: 'thousand',
  thousand: 'thousand',
  mila: 'thousand',
  m: 'million',
  mn: 'million',
  mln: 'million',
  million: 'million',
  milione: 'million',
  milioni: 'million',
  b: 'billion',
  bn: 'billion',
  mld: 'billion',
  mrd: 'billion',
  billion: 'billion',
  miliardo: 'billion',
  miliardi: 'billion',
  t: 'trillion',
  tn: 'trillion',
  trillion: 'trillion',
}

// The digits with any separators; the language decides below which separator is which. The
// lookahead keeps the match from stopping inside the number ("$1.07M" is not "$1" and ".07M").
const DIGITS = String.raw`(\d+(?:[.,\u00A0\u202F]\d+)*)(?![.,\u00A0\u202F]?\d)`
// A suffix sticks to the number ("$1.5B", "£5m"); a word follows a space ("$2.5 billion"); the
// Italian abbreviations come either way ("€1,5 mln"). `t` alone would be too easily a typo.
const SCALE = String.raw`(?:([kKmMbBT]|mn|bn|tn)|\s?(mln|mld|mrd)|\s(thousand|million|billion|trillion|mila|milion[ei]|miliard[oi]))(?!\p{L})`
// A sum may be per something: "€5/kg", "1200 €/mese".
const PER = String.raw`(?:\s?\/\s?(\p{L}+))?`
// `US$5`, `A$20`, `C$15`, `NZ$`, `HK$`, `S$`: a country only before `$`, and only at the start of
// a word (the `S` of `BUS$5` is not Singapore's).
const COUNTRY = String.raw`(?:(?<![\p{L}\p{N}])(US|AU?|CA?|NZ|HK|SG?)(?=\$))?`
const MONEY_BEFORE = new RegExp(String.raw`${COUNTRY}([€$£])\s?${DIGITS}(?:${SCALE})?(?!\p{L})${PER}`, 'gu')
const MONEY_AFTER = new RegExp(String.raw`(?<![\p{L}\p{N}_.,])${DIGITS}\s?([€$£])${PER}`, 'gu')

const SPACE_GROUPS = /^([1-9]\d{0,2}(?:[\u00A0\u202F]\d{3})+)(?:[.,](\d+))?$/
const COMMA_GROUPS = /^([1-9]\d{0,2}(?:,\d{3})+)(?:\.(\d+))?$/
const DOT_GROUPS = /^([1-9]\d{0,2}(?:\.\d{3})+)(?:,(\d+))?$/
const POINT = /^(\d+)(?:\.(\d+))?$/
const COMMA = /^(\d+),(\d+)$/

/** A sum as whole units and the digits after the decimal mark (undefined when none). */
interface Amount {
  units: string
  fraction: string | undefined
}

function amount(groups: RegExpExecArray | null): Amount | undefined {
  if (groups === null) return undefined
  const units = (groups[1] as string).replace(/\D/g, '').replace(/^0+(?=\d)/, '')
  return { units, fraction: groups[2] }
}

/**
 * Reads the digits of a sum in the language's convention, or undefined when they fit none (a
 * version such as `1.2.3`). English: a dot is a decimal point (`$3.499`), a comma groups thousands,
 * and only forms no English writer uses are taken as European (`1.234,50`, `1.234.567`, `45,00`).
 * Italian: a dot groups thousands when the groups are whole (`1.500`), a comma is the decimal mark,
 * and an English decimal point (`€3.50`) or thousands comma (`$1,234.50`) is understood too.
 */
function parseAmount(digits: string, c: SpeechConventions): Amount | undefined {
  const spaced = amount(SPACE_GROUPS.exec(digits))
  if (spaced !== undefined) return spaced
  if (/[\u00A0\u202F]/.test(digits)) return undefined
  if (c.decimal === '.') {
    const european = DOT_GROUPS.exec(digits)
    const unambiguous = european !== null && (european[2] !== undefined || (european[1] as string).length > 7)
    return (
      amount(POINT.exec(digits)) ??
      amount(COMMA_GROUPS.exec(digits)) ??
      (unambiguous ? amount(european) : undefined) ??
      amount(/^(\d+),(\d{1,2})$/.exec(digits))
    )
  }
  return (
    amount(DOT_GROUPS.exec(digits)) ??
    amount(COMMA_GROUPS.exec(digits)) ??
    amount(COMMA.exec(digits)) ??
    amount(POINT.exec(digits))
  )
}

/** `1.5` or `1,5` as the language writes it, for a sum read as a number with its decimals. */
function decimalNumber({ units, fraction }: Amount, c: SpeechConventions): string {
  return fraction === undefined ? units : `${units}${c.decimal}${fraction}`
}

function spokenMoney(sum: Amount, words: CurrencyWords, c: SpeechConventions): string {
  // "$1.500" in English is one dollar fifty; "$3.499" is read as the number it is.
  const fraction = sum.fraction?.replace(/(?<=\d\d)0+$/, '')
  if (fraction !== undefined && fraction.length > 2) {
    return `${decimalNumber({ units: sum.units, fraction }, c)} ${words.many}`
  }
  const whole = `${sum.units} ${sum.units === '1' ? words.one : words.many}`
  const cents = fraction === undefined ? 0 : Number(fraction.length === 1 ? `${fraction}0` : fraction)
  if (cents === 0) return whole
  const centWords = `${cents} ${cents === 1 ? words.centOne : words.centMany}`
  return sum.units === '0' ? centWords : `${whole} ${c.and} ${centWords}`
}

function scaledMoney(sum: Amount, scale: Scale, words: CurrencyWords, c: SpeechConventions): string {
  // "€2.5k" is said as the sum it is, "2500 euros", when that is a whole number.
  if (scale === 'thousand' && (sum.fraction ?? '').length <= 3) {
    const units = `${sum.units}${(sum.fraction ?? '').padEnd(3, '0')}`.replace(/^0+(?=\d)/, '')
    return spokenMoney({ units, fraction: undefined }, words, c)
  }
  return c.scaled(decimalNumber(sum, c), scale, words)
}

function per(sum: string, unit: string | undefined, c: SpeechConventions): string {
  return unit === undefined ? sum : `${sum} ${c.per} ${unit}`
}

type CurrencySymbol = '€' | '$' | '£'

// The written forms of each country, as COUNTRY matches them.
const DOLLAR_COUNTRIES: Readonly<Record<string, DollarCountry>> = {
  US: 'US',
  A: 'A',
  AU: 'A',
  C: 'C',
  CA: 'C',
  NZ: 'NZ',
  HK: 'HK',
  S: 'S',
  SG: 'S',
}

/** Rewrites sums of money, with the symbol before or after, into the words of the language. */
export function speakMoney(text: string, c: SpeechConventions): string {
  if (!/[€$£]/.test(text)) return text
  return text
    .replace(
      MONEY_BEFORE,
      (
        match,
        country: string | undefined,
        symbol: CurrencySymbol,
        digits: string,
        suffix?: string,
        short?: string,
        word?: string,
        unit?: string,
      ) => {
        const sum = parseAmount(digits, c)
        if (sum === undefined) return match
        const words =
          country === undefined ? c.currencies[symbol] : c.dollars[DOLLAR_COUNTRIES[country] ?? 'US']
        const scaleName = suffix ?? short ?? word
        const scale = scaleName === undefined ? undefined : SCALES[scaleName.toLowerCase()]
        const spoken = scale === undefined ? spokenMoney(sum, words, c) : scaledMoney(sum, scale, words, c)
        return per(spoken, unit, c)
      },
    )
    .replace(MONEY_AFTER, (match, digits: string, symbol: CurrencySymbol, unit?: string) => {
      const sum = parseAmount(digits, c)
      return sum === undefined ? match : per(spokenMoney(sum, c.currencies[symbol], c), unit, c)
    })
}
