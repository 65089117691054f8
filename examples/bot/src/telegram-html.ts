// A reply's Markdown as the HTML subset Telegram's `parse_mode: 'HTML'` accepts (b, i, s, code, pre,
// a, blockquote), read by the same Markdown reader as the web page. Telegram has no headings, lists
// or tables: headings become bold lines, list items get a bullet or their number, tables become
// preformatted text. Every piece of text is escaped, so nothing in a reply can become a tag.
import { type Block, type Inline, parseMarkdown } from './web/page/markdown.js'

/** What Telegram shows of a message: the text after its HTML is read. It counts at most 4096. */
export interface TelegramHtml {
  html: string
  /** The text the user sees, for Telegram's length limit and for a plain-text fallback. */
  text: string
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Builds the HTML and the visible text side by side, so the two never disagree. */
class Writer {
  html = ''
  text = ''
  write(text: string): void {
    this.html += escapeHtml(text)
    this.text += text
  }
  open(tag: string): void {
    this.html += tag
  }
}

function inline(nodes: readonly Inline[], out: Writer): void {
  for (const node of nodes) {
    if (typeof node === 'string') {
      out.write(node)
      continue
    }
    switch (node.type) {
      case 'break':
        out.write('\n')
        break
      case 'code':
        out.open('<code>')
        out.write(node.text)
        out.open('</code>')
        break
      case 'link':
        // The reader keeps only http, https and mailto addresses; quotes are escaped for the attribute.
        out.open(`<a href="${escapeHtml(node.href).replace(/"/g, '&quot;')}">`)
        inline(node.children, out)
        out.open('</a>')
        break
      default: {
        const tag = node.type === 'strong' ? 'b' : node.type === 'em' ? 'i' : 's'
        out.open(`<${tag}>`)
        inline(node.children, out)
        out.open(`</${tag}>`)
      }
    }
  }
}

/** The visible text of inline content, for table cells laid out as preformatted text. */
function plain(nodes: readonly Inline[]): string {
  const out = new Writer()
  inline(nodes, out)
  return out.text
}

function block(node: Block, out: Writer, indent: string): void {
  switch (node.type) {
    case 'paragraph':
      out.write(indent)
      inline(node.children, out)
      return
    case 'heading':
      out.write(indent)
      out.open('<b>')
      inline(node.children, out)
      out.open('</b>')
      return
    case 'code':
      out.open(node.language ? `<pre><code class="language-${escapeHtml(node.language)}">` : '<pre>')
      out.write(node.text)
      out.open(node.language ? '</code></pre>' : '</pre>')
      return
    case 'quote':
      out.open('<blockquote>')
      blocks(node.children, out, '')
      out.open('</blockquote>')
      return
    case 'list':
      node.items.forEach((item, i) => {
        if (i > 0) out.write('\n')
        const box = item.checked === undefined ? '' : item.checked ? '☑ ' : '☐ '
        out.write(`${indent}${node.ordered ? `${node.start + i}.` : '•'} ${box}`)
        // The item's own paragraphs follow its marker; nested lists are indented under it.
        item.children.forEach((child, j) => {
          if (j > 0) out.write('\n')
          block(child, out, j === 0 && child.type === 'paragraph' ? '' : `${indent}   `)
        })
      })
      return
    case 'table': {
      const rows = [node.head, ...node.rows].map((row) => row.map(plain))
      const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? '')].length))) ?? []
      const line = (row: string[]) =>
        row
          .map((cell, c) => cell + ' '.repeat((widths[c] ?? 0) - [...cell].length))
          .join(' | ')
          .trimEnd()
      out.open('<pre>')
      out.write(
        [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)].join(
          '\n',
        ),
      )
      out.open('</pre>')
      return
    }
    case 'rule':
      out.write(`${indent}———`)
      return
  }
}

function blocks(nodes: readonly Block[], out: Writer, indent: string): void {
  nodes.forEach((node, i) => {
    if (i > 0) out.write('\n\n')
    block(node, out, indent)
  })
}

/** A reply's Markdown as Telegram HTML, with the text the user will see. */
export function telegramHtml(markdown: string): TelegramHtml {
  const out = new Writer()
  blocks(parseMarkdown(markdown), out, '')
  return { html: out.html, text: out.text }
}
