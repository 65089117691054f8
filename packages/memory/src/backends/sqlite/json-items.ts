/**
 * The JSON texts of the items of a JSON array, from the array's text as `JSON.stringify` wrote it
 * (no whitespace): `jsonItems('[{"a":1},"x,y",[2]]')` is `['{"a":1}', '"x,y"', '[2]']`. Each item
 * is exactly what `JSON.stringify(item)` gives, because the serialiser writes an array as its items'
 * texts joined by commas.
 *
 * Why: `JSON.stringify` costs about half a microsecond per call on top of the text it writes, so
 * one call for a batch of messages and this split cost less than one call per message.
 */
export function jsonItems(text: string): string[] {
  const items: string[] = []
  const end = text.length - 1
  if (end <= 1) return items
  let depth = 0
  let start = 1
  for (let i = 1; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = closingQuote(text, i)
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    } else if (c === COMMA && depth === 0) {
      items.push(text.slice(start, i))
      start = i + 1
    }
  }
  items.push(text.slice(start, end))
  return items
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** The index of the quote that ends the string opened at `open`: the next one not escaped. */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1)
  for (;;) {
    // Never for the serialiser's output; ends the scan rather than looping on anything else.
    if (quote < 0) return text.length
    // Escaped when an odd number of backslashes precede it (`\\"` ends the string, `\"` does not).
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote
    quote = text.indexOf('"', quote + 1)
  }
}
