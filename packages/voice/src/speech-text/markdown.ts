// A small Markdown reader for the subset chat models write (CommonMark's blocks and inlines,
// GitHub's tables, task lists and strikethrough). It does not build a tree: it only has to find
// the words a listener should hear and where the pauses go, and it must never throw on odd input.

/** One unit of speech: a heading, a paragraph, a list item, a table row, or omitted code. */
export interface SpeechBlock {
  text: string
  /** True for the phrase said in place of a code block: it is not Markdown. */
  literal?: boolean
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/
const HEADING = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/
const RULE = /^ {0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$/
const SETEXT = /^ {0,3}(?:=+|-+)\s*$/
const QUOTE = /^ {0,3}>\s?/
const BULLET = /^\s*[-*+•]\s+(?:\[[ xX]\]\s+)?(.*)$/
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(?:\[[ xX]\]\s+)?(.*)$/
const TABLE_SEPARATOR = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/
const DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/
// Inline math, `$E = mc^2$`, as Pandoc and most chat front-ends find it: a `$` before a character
// that is neither a space nor a digit (so "$5 or $10" stays money), a closing `$` on the same line
// after a non-space and not before a digit. Its delimiters become private-use marks, because lines
// are joined into paragraphs before the inline rules run.
const MATH = /(?<![\\$])\$(?=[^\s\d$])([^$\n]{1,300}?)(?<=[^\s\\])\$(?!\d)/g
const MATH_OPEN = '\uE0F0'
const MATH_CLOSE = '\uE0F1'

/** Marks the inline math of one line, so that its `$` are not read as money. */
function markMath(line: string): string {
  return line.includes('$') ? line.replace(MATH, `${MATH_OPEN}$1${MATH_CLOSE}`) : line
}

/** The cells of a table row, split on `|` that are not escaped. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim())
    .filter((cell) => cell !== '')
}

/**
 * Splits Markdown into blocks in reading order. Fenced code becomes `codeOmitted` (or nothing);
 * a table is read row by row, its cells separated by pauses.
 */
export function markdownBlocks(markdown: string, codeOmitted: string | undefined): SpeechBlock[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n')
  const blocks: SpeechBlock[] = []
  let paragraph: string[] = []
  let fence: string | undefined
  let inTable = false
  const endParagraph = () => {
    if (paragraph.length > 0) blocks.push({ text: joinLines(paragraph) })
    paragraph = []
  }
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string
    if (fence !== undefined) {
      const close = FENCE.exec(raw)
      if (close !== null && close[1]?.[0] === fence[0] && (close[1] as string).length >= fence.length) {
        fence = undefined
      }
      continue
    }
    const opening = FENCE.exec(raw)
    if (opening !== null) {
      endParagraph()
      fence = opening[1] as string
      if (codeOmitted !== undefined) blocks.push({ text: codeOmitted, literal: true })
      continue
    }
    let line = raw
    while (QUOTE.test(line)) line = line.replace(QUOTE, '')
    line = markMath(line)
    if (line.trim() === '') {
      endParagraph()
      inTable = false
      continue
    }
    if (inTable || (line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1] ?? ''))) {
      if (line.includes('|')) {
        endParagraph()
        inTable = true
        if (!TABLE_SEPARATOR.test(line)) blocks.push({ text: cells(line).join(', ') })
        continue
      }
      inTable = false
    }
    if (SETEXT.test(line) && paragraph.length > 0) {
      endParagraph()
      continue
    }
    if (RULE.test(line) || DEFINITION.test(line)) {
      endParagraph()
      continue
    }
    const heading = HEADING.exec(line)
    if (heading !== null) {
      endParagraph()
      blocks.push({ text: heading[1] ?? '' })
      continue
    }
    const numbered = NUMBERED.exec(line)
    if (numbered !== null) {
      endParagraph()
      // The number stays, followed by a pause: "1, apri il file."
      blocks.push({ text: `${numbered[1]}, ${numbered[2]}` })
      continue
    }
    const bullet = BULLET.exec(line)
    if (bullet !== null) {
      endParagraph()
      blocks.push({ text: bullet[1] as string })
      continue
    }
    paragraph.push(line.trim())
  }
  endParagraph()
  return blocks
}

/**
 * Joins the lines of a paragraph. Chat replies rarely wrap lines by hand, so a line that ends a
 * thought (punctuation, or the next starts with a capital) is read as its own sentence.
 */
function joinLines(lines: string[]): string {
  let text = lines[0] as string
  for (let i = 1; i < lines.length; i++) {
    const next = lines[i] as string
    const continues = /[\p{L},]$/u.test(text) && /^\p{Ll}/u.test(next)
    text += continues || /[.!?:;]$/.test(text) ? ` ${next}` : `. ${next}`
  }
  return text
}

const ESCAPED = /\\([!-/:-@[-`{-~])/g
const PROTECT_BASE = 0xe000
const IMAGE = /!\[([^\][]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\)/g
const LINK = /\[([^\][]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+(?:"[^"]*"|'[^']*'))?\)/g
const REFERENCE_LINK = /\[([^\][]+)\]\[[^\][]*\]/g
const AUTOLINK = /<((?:https?|ftp):\/\/[^>\s]+|mailto:[^>\s]+|[^>\s@]+@[^>\s]+)>/gi
const BREAK = /<br\s*\/?>/gi
const TAG = /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>|<!--[\s\S]*?-->/g
// Spans are bounded so that an unclosed mark costs a bounded scan, not one to the end of the block.
const CODE = /(`+)(.{1,500}?)\1(?!`)/g
const MATH_SPAN = /\uE0F0([^\uE0F0\uE0F1]{1,300})\uE0F1/g
const STRONG = /(\*\*|__)(?=\S)(.{1,300}?)(?<=\S)\1/g
const EMPHASIS_STAR = /\*(?=[^\s*])(.{1,300}?)(?<=[^\s*])\*/g
const EMPHASIS_UNDERSCORE = /(?<![\p{L}\p{N}_])_(?=[^\s_])(.{1,300}?)(?<=[^\s_])_(?![\p{L}\p{N}_])/gu
const STRIKE = /~~(?=\S)(.{1,300}?)(?<=\S)~~/g
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }
const ENTITY = /&(#\d+|#x[\da-f]+|[a-z]+);/gi

function decodeEntity(match: string, name: string): string {
  if (name[0] === '#') {
    const code =
      name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1))
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match
  }
  return ENTITIES[name.toLowerCase()] ?? match
}

/** Inline code as words: the symbols between them would be spelled, the words are what it says. */
function codeWords(code: string): string {
  return ` ${code.replace(/[^\p{L}\p{N}\s.'-]+|(?<![\p{L}\p{N}])-+|(?<!\p{L})\.|\.(?!\p{L})/gu, ' ')} `
}

/**
 * Removes inline Markdown and HTML from one block: links and images keep their text, inline code
 * its words, emphasis its content. `addresses` shortens the web and e-mail addresses left in the
 * text; it runs after links (whose address is dropped) and before code (which may hold one).
 * Escaped characters are kept as written and never read as markup.
 */
export function markdownInline(text: string, addresses: (text: string) => string): string {
  let out = text.replace(ESCAPED, (_, char: string) => String.fromCharCode(PROTECT_BASE + char.charCodeAt(0)))
  if (out.includes('[')) {
    out = out.replace(IMAGE, '$1').replace(LINK, '$1').replace(REFERENCE_LINK, '$1')
  }
  if (out.includes('<')) {
    out = out
      .replace(AUTOLINK, (_, address: string) => address.replace(/^mailto:/i, ''))
      .replace(BREAK, ', ')
      .replace(TAG, ' ')
  }
  out = addresses(out)
  if (out.includes('`')) out = out.replace(CODE, (_, __, code: string) => codeWords(code))
  // Math is read like inline code: its words and numbers, without its symbols.
  if (out.includes(MATH_OPEN)) {
    out = out.replace(MATH_SPAN, (_, math: string) => codeWords(math)).replace(/[\uE0F0\uE0F1]/g, ' ')
  }
  if (out.includes('*') || out.includes('_')) {
    out = out.replace(STRONG, '$2').replace(EMPHASIS_STAR, '$1').replace(EMPHASIS_UNDERSCORE, '$1')
  }
  if (out.includes('~~')) out = out.replace(STRIKE, '$1')
  if (out.includes('&')) out = out.replace(ENTITY, decodeEntity)
  // Escaped characters come back as themselves; the punctuation rules decide how they sound.
  return out.replace(/[\uE021-\uE07E]/g, (char) => String.fromCharCode(char.charCodeAt(0) - PROTECT_BASE))
}
