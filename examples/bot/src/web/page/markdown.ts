// Over 400 lines on purpose: one small Markdown reader (blocks, then inline spans) whose rules
// depend on each other; splitting blocks from inlines would only move the shared helpers around.
// Reads the Markdown that chat models write (CommonMark's common blocks and inlines, GitHub's
// tables, task lists, strikethrough and bare links) into a small tree of plain data. It builds no
// HTML: render-markdown.ts turns the tree into DOM nodes, with every piece of text as a text node,
// so raw HTML in a reply shows as the characters it is. It must never throw on odd input.

/** Inline content: plain text, or a mark around more inline content. */
export type Inline =
  | string
  | { type: 'strong' | 'em' | 'del'; children: Inline[] }
  | { type: 'code'; text: string }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'break' }

/** Block content, in reading order. */
export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { type: 'code'; text: string; language?: string }
  | { type: 'quote'; children: Block[] }
  | { type: 'list'; ordered: boolean; start: number; items: { checked?: boolean; children: Block[] }[] }
  | { type: 'table'; head: Inline[][]; rows: Inline[][][] }
  | { type: 'rule' }

// Deeper quotes and lists than this are read as text: a bound on recursion for hostile input.
const MAX_DEPTH = 8
// An opening mark looks this far for its closing one, so unclosed marks cost a bounded scan.
const MAX_SPAN = 1000

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const RULE = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/
const QUOTE = /^ {0,3}> ?/
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+|$)/
const TASK = /^\[([ xX])\][ \t]+/
const TABLE_SEPARATOR = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/
const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:'])

/** Splits a reply into blocks. */
export function parseMarkdown(markdown: string): Block[] {
  return blocks(markdown.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD').split('\n'), 0)
}

function isBlank(line: string): boolean {
  return line.trim() === ''
}

/** The cells of a table row, split on `|` that are not escaped or inside code. */
function cells(line: string): string[] {
  const row = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
  const out: string[] = []
  let cell = ''
  let code = false
  for (let i = 0; i < row.length; i++) {
    const char = row[i] as string
    if (char === '\\' && row[i + 1] === '|') {
      cell += '|'
      i++
    } else if (char === '`') {
      code = !code
      cell += char
    } else if (char === '|' && !code) {
      out.push(cell.trim())
      cell = ''
    } else cell += char
  }
  out.push(cell.trim())
  return out
}

/** True when a line starts a block other than a paragraph (so it ends the paragraph before it). */
function startsBlock(line: string, next: string | undefined): boolean {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (line.includes('|') && next !== undefined && TABLE_SEPARATOR.test(next))
  )
}

function blocks(lines: string[], depth: number): Block[] {
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] as string
    if (isBlank(line)) {
      i++
      continue
    }
    const fence = FENCE.exec(line)
    if (fence !== null) {
      const mark = fence[1] as string
      const indent = line.length - line.trimStart().length
      const body: string[] = []
      i++
      while (i < lines.length) {
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i] as string)
        if (close !== null && close[1]?.[0] === mark[0] && (close[1] as string).length >= mark.length) {
          i++
          break
        }
        body.push((lines[i] as string).replace(new RegExp(`^ {0,${indent}}`), ''))
        i++
      }
      const language = /^[\w+#.-]{1,30}$/.test(fence[2] ?? '') ? fence[2] : undefined
      out.push(
        language === undefined
          ? { type: 'code', text: body.join('\n') }
          : { type: 'code', text: body.join('\n'), language },
      )
      continue
    }
    const heading = HEADING.exec(line)
    if (heading !== null) {
      const level = (heading[1] as string).length as 1 | 2 | 3 | 4 | 5 | 6
      out.push({ type: 'heading', level, children: parseInline(heading[2] ?? '') })
      i++
      continue
    }
    if (RULE.test(line)) {
      out.push({ type: 'rule' })
      i++
      continue
    }
    if (depth < MAX_DEPTH && QUOTE.test(line)) {
      const quoted: string[] = []
      while (i < lines.length && QUOTE.test(lines[i] as string)) {
        quoted.push((lines[i] as string).replace(QUOTE, ''))
        i++
      }
      out.push({ type: 'quote', children: blocks(quoted, depth + 1) })
      continue
    }
    if (line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1] ?? '')) {
      const head = cells(line).map(parseInline)
      const rows: Inline[][][] = []
      i += 2
      while (i < lines.length && !isBlank(lines[i] as string) && (lines[i] as string).includes('|')) {
        rows.push(cells(lines[i] as string).map(parseInline))
        i++
      }
      out.push({ type: 'table', head, rows })
      continue
    }
    const item = LIST_ITEM.exec(line)
    if (depth < MAX_DEPTH && item !== null) {
      i = list(lines, i, depth, out)
      continue
    }
    // A paragraph: lines up to a blank line or the start of another block.
    const paragraph: string[] = [line.trim()]
    i++
    while (i < lines.length) {
      const next = lines[i] as string
      if (isBlank(next) || startsBlock(next, lines[i + 1])) break
      // A line of only `=` or `-` under a paragraph makes it a heading.
      const underline = /^ {0,3}(=+|-+)[ \t]*$/.exec(next)
      if (underline !== null) {
        out.push({
          type: 'heading',
          level: underline[1]?.[0] === '=' ? 1 : 2,
          children: parseInline(paragraph.join('\n')),
        })
        paragraph.length = 0
        i++
        break
      }
      paragraph.push(next.trim())
      i++
    }
    if (paragraph.length > 0) out.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) })
  }
  return out
}

/** Reads one list starting at line `start` into `out`; returns the index of the first line after it. */
function list(lines: string[], start: number, depth: number, out: Block[]): number {
  const first = LIST_ITEM.exec(lines[start] as string) as RegExpExecArray
  const marker = first[2] as string
  const ordered = /\d/.test(marker)
  const delimiter = marker.at(-1)
  const block: Extract<Block, { type: 'list' }> = {
    type: 'list',
    ordered,
    start: ordered ? Number.parseInt(marker, 10) : 1,
    items: [],
  }
  let i = start
  while (i < lines.length) {
    const match = LIST_ITEM.exec(lines[i] as string)
    const mark = match?.[2]
    if (match === null || mark === undefined || /\d/.test(mark) !== ordered) break
    if (ordered ? mark.at(-1) !== delimiter : mark !== marker) break
    const contentIndent = match[0].length
    let text = (lines[i] as string).slice(contentIndent)
    const task = TASK.exec(text)
    if (task !== null) text = text.slice(task[0].length)
    const body = [text]
    i++
    // The item goes on with indented lines, blank lines followed by indented lines, and lazy
    // continuation lines of its paragraph.
    while (i < lines.length) {
      const next = lines[i] as string
      const indent = next.length - next.trimStart().length
      if (isBlank(next)) {
        const after = lines.slice(i + 1).find((l) => !isBlank(l))
        if (after === undefined || after.length - after.trimStart().length < 2) break
        body.push('')
        i++
        continue
      }
      if (indent >= 2) {
        body.push(next.slice(Math.min(indent, contentIndent)))
        i++
        continue
      }
      if (startsBlock(next, lines[i + 1]) || isBlank(body.at(-1) ?? '')) break
      body.push(next)
      i++
    }
    const children = blocks(body, depth + 1)
    block.items.push(task === null ? { children } : { checked: task[1] !== ' ', children })
    // A blank line between items keeps the list going.
    while (i < lines.length && isBlank(lines[i] as string) && LIST_ITEM.test(lines[i + 1] ?? '')) i++
  }
  out.push(block)
  return i
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  copy: '©',
  reg: '®',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  euro: '€',
}
const ENTITY = /^&(#\d{1,7}|#[xX][\da-fA-F]{1,6}|[a-zA-Z]{2,8});/

/** The character an entity names, or undefined to keep it as written. */
function entity(name: string): string | undefined {
  if (name[0] !== '#') return ENTITIES[name.toLowerCase()]
  const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1))
  return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
    ? String.fromCodePoint(code)
    : '\uFFFD'
}

/** The link's address if it is safe to follow from the page (http, https, mailto), else undefined. */
export function safeHref(raw: string): string | undefined {
  const text = raw
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
  const decoded = text.replace(
    /&(#\d{1,7}|#[xX][\da-fA-F]{1,6}|[a-zA-Z]{2,8});/g,
    (m, n: string) => entity(n) ?? m,
  )
  let url: URL
  try {
    // No base: relative addresses would point into the bot's own API, so they are not links.
    url = new URL(decoded)
  } catch {
    return undefined
  }
  return SAFE_SCHEMES.has(url.protocol) ? url.href : undefined
}

/** The index of `close` at or after `from` that may end a span, or -1. */
function closing(text: string, close: string, from: number, flanked: boolean): number {
  const mark = close[0] as string
  const limit = Math.min(text.length, from + MAX_SPAN)
  for (let at = text.indexOf(close, from); at !== -1 && at < limit; at = text.indexOf(close, at + 1)) {
    // A run of marks closes as a whole: `**` inside `*a **b** c*` is not the end of the `*` span,
    // and `***` after `**a *b` ends both, the inner span first.
    let runEnd = at
    while (text[runEnd] === mark) runEnd++
    if (at === from || text[at - 1] === '\\' || text[at - 1] === mark) continue
    if (flanked && /\s/.test(text[at - 1] as string)) continue
    const run = runEnd - at
    if (run === close.length) return at
    if (run === 3) return runEnd - close.length
  }
  return -1
}

/** The end of a `[text]` link label starting at `open`, or -1; brackets inside may nest. */
function labelEnd(text: string, open: number): number {
  let depth = 0
  const limit = Math.min(text.length, open + MAX_SPAN)
  for (let i = open; i < limit; i++) {
    const char = text[i]
    if (char === '\\') i++
    else if (char === '[') depth++
    else if (char === ']' && --depth === 0) return i
  }
  return -1
}

const DESTINATION =
  /^\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*\)/
const AUTOLINK = /^<((?:https?|mailto):[^<>\s]+)>/i
const BARE_URL = /^https?:\/\/[^\s<>]+/i
const ESCAPABLE = /[!-/:-@[-`{-~]/

/** Reads inline Markdown: code, links, emphasis, strikethrough, escapes, entities, line breaks. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = []
  let plain = ''
  const flush = () => {
    if (plain !== '') out.push(plain)
    plain = ''
  }
  const push = (node: Inline) => {
    flush()
    out.push(node)
  }
  let i = 0
  while (i < text.length) {
    const char = text[i] as string
    // Only the characters a mark may span, sliced only where a mark starts.
    const rest = () => text.slice(i, i + MAX_SPAN + 10)
    if (char === '\\') {
      const next = text[i + 1]
      if (next === '\n') {
        push({ type: 'break' })
        i += 2
        continue
      }
      if (next !== undefined && ESCAPABLE.test(next)) {
        plain += next
        i += 2
        continue
      }
    }
    if (char === '`') {
      const run = /^`+/.exec(rest())?.[0] as string
      const end = findRun(text, run, i + run.length)
      if (end !== -1) {
        let code = text.slice(i + run.length, end).replace(/\n/g, ' ')
        if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1)
        push({ type: 'code', text: code })
        i = end + run.length
        continue
      }
      plain += run
      i += run.length
      continue
    }
    if (char === '&') {
      const match = ENTITY.exec(rest())
      const value = match === null ? undefined : entity(match[1] as string)
      if (match !== null && value !== undefined) {
        plain += value
        i += match[0].length
        continue
      }
    }
    if (char === '<') {
      const auto = AUTOLINK.exec(rest())
      const href = auto === null ? undefined : safeHref(auto[1] as string)
      if (auto !== null && href !== undefined) {
        push({ type: 'link', href, children: [(auto[1] as string).replace(/^mailto:/i, '')] })
        i += auto[0].length
        continue
      }
    }
    if (char === 'h' && (i === 0 || /[\s(*_~]/.test(text[i - 1] as string))) {
      const bare = BARE_URL.exec(rest())
      if (bare !== null) {
        // Closing punctuation is the sentence's, not the address's.
        let url = bare[0].replace(/[.,:;!?'"*_~]+$/, '')
        if (url.endsWith(')') && !url.includes('(')) url = url.slice(0, -1)
        const href = safeHref(url)
        if (href !== undefined) {
          push({ type: 'link', href, children: [url] })
          i += url.length
          continue
        }
      }
    }
    if (char === '[' || (char === '!' && text[i + 1] === '[')) {
      const open = char === '!' ? i + 1 : i
      const close = labelEnd(text, open)
      const destination = close === -1 ? null : DESTINATION.exec(text.slice(close + 1, close + 1 + MAX_SPAN))
      if (close !== -1 && destination !== null) {
        const label = text.slice(open + 1, close)
        const href = safeHref(destination[1] as string)
        // An image is shown as a link to it, never loaded: a reply cannot make the page fetch.
        const children = unlinked(parseInline(label === '' && char === '!' ? 'image' : label))
        if (href !== undefined) push({ type: 'link', href, children })
        else {
          flush()
          out.push(...children)
        }
        i = close + 1 + destination[0].length
        continue
      }
    }
    if (char === '*' || char === '_' || char === '~') {
      const span = emphasis(text, i)
      if (span !== undefined) {
        push(span.node)
        i = span.end
        continue
      }
      // A run of marks that opens nothing is text as a whole, so `**` cannot close a later `*`.
      const run = new RegExp(`^\\${char}+`).exec(rest())?.[0] as string
      plain += run
      i += run.length
      continue
    }
    if (char === '\n') {
      // Two spaces before a line break make a hard break; a chat reply's line breaks are kept too.
      plain = plain.replace(/ +$/, '')
      push({ type: 'break' })
      i++
      continue
    }
    plain += char
    i++
  }
  flush()
  return out
}

/** Links inside a link's text (a linked image) keep only their text: links do not nest. */
function unlinked(nodes: Inline[]): Inline[] {
  return nodes.flatMap((node) => (typeof node === 'object' && node.type === 'link' ? node.children : [node]))
}

/** The end of the backtick run equal to `run` from `from`, or -1. */
function findRun(text: string, run: string, from: number): number {
  const limit = Math.min(text.length, from + MAX_SPAN)
  for (let at = text.indexOf(run, from); at !== -1 && at < limit; at = text.indexOf(run, at + 1)) {
    if (text[at - 1] !== '`' && text[at + run.length] !== '`') return at
  }
  return -1
}

/** An emphasis, strong or strikethrough span opening at `i`, if it closes. */
function emphasis(text: string, i: number): { node: Inline; end: number } | undefined {
  const char = text[i] as string
  const double = text[i + 1] === char
  if (char === '~' && !double) return undefined
  const marks: [string, 'strong' | 'em' | 'del'][] =
    char === '~' ? [['~~', 'del']] : double ? [[char + char, 'strong']] : [[char, 'em']]
  for (const [mark, type] of marks) {
    const from = i + mark.length
    // An opening mark is followed by a non-space; `_` inside a word (snake_case) is not a mark.
    if (from >= text.length || /\s/.test(text[from] as string)) continue
    if (char === '_' && i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1] as string)) continue
    let end = closing(text, mark, from, true)
    if (end !== -1 && char === '_' && /[\p{L}\p{N}]/u.test(text[end + mark.length] ?? '')) end = -1
    if (end === -1) continue
    return { node: { type, children: parseInline(text.slice(from, end)) }, end: end + mark.length }
  }
  return undefined
}
