import { describe, expect, it } from 'vitest'
import { telegramHtml } from '../src/telegram-html.js'

const TELEGRAM_TAGS = new Set(['b', 'i', 's', 'u', 'code', 'pre', 'a', 'blockquote'])

/**
 * Reads HTML the way Telegram's parse_mode 'HTML' does, strictly: only its tags, each closed in
 * order, only its four entities, no bare `<`, `>` or `&`. Returns the visible text, or throws.
 */
function readAsTelegram(html: string): string {
  const open: string[] = []
  let text = ''
  const token = /<(\/?)([a-z-]+)((?: [a-z-]+="[^"<>]*")*)>|&(lt|gt|amp|quot);|([^<>&]+)|([\s\S])/g
  for (const m of html.matchAll(token)) {
    const [, closing, tag, , entity, plain, stray] = m
    if (stray !== undefined) throw new Error(`bare ${JSON.stringify(stray)} at ${m.index}`)
    if (plain !== undefined) text += plain
    else if (entity !== undefined) text += { lt: '<', gt: '>', amp: '&', quot: '"' }[entity]
    else if (tag !== undefined) {
      if (!TELEGRAM_TAGS.has(tag)) throw new Error(`unsupported tag <${tag}>`)
      if (closing) {
        if (open.pop() !== tag) throw new Error(`</${tag}> closes nothing open`)
      } else open.push(tag)
    }
  }
  if (open.length > 0) throw new Error(`unclosed <${open.join('>, <')}>`)
  return text
}

function render(markdown: string): string {
  const { html, text } = telegramHtml(markdown)
  expect(readAsTelegram(html)).toBe(text)
  return html
}

describe('telegramHtml', () => {
  it('turns the inline marks chat models write into Telegram tags', () => {
    expect(render('**bold**, *italic*, ~~gone~~, `x < y` and [docs](https://example.com/a?b=1&c="2")')).toBe(
      '<b>bold</b>, <i>italic</i>, <s>gone</s>, <code>x &lt; y</code> and <a href="https://example.com/a?b=1&amp;c=%222%22">docs</a>',
    )
  })

  it('escapes every piece of text, so HTML in a reply is shown as the characters it is', () => {
    expect(render('<b onclick="x">hi</b> & <script>alert(1)</script>')).toBe(
      '&lt;b onclick="x"&gt;hi&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;',
    )
    // A link to a script is not a link.
    expect(render('[click](javascript:alert(1))')).not.toContain('<a')
  })

  it('lays out what Telegram has no tags for: headings, lists, task lists, tables, rules', () => {
    const { html, text } = telegramHtml(
      '# Plan\n\n1. first\n2. second\n   - nested\n\n- [x] done\n- [ ] todo\n\n| a | bb |\n|---|---|\n| 1 | 2 |\n\n---',
    )
    expect(readAsTelegram(html)).toBe(text)
    expect(html).toContain('<b>Plan</b>')
    expect(text).toContain('1. first\n2. second\n   • nested')
    expect(text).toContain('• ☑ done\n• ☐ todo')
    expect(html).toContain('<pre>a | bb\n--+---\n1 | 2</pre>')
    expect(text.endsWith('———')).toBe(true)
  })

  it('keeps code blocks verbatim, with their language', () => {
    expect(render('```ts\nconst a = 1 < 2 && "x"\n```')).toBe(
      '<pre><code class="language-ts">const a = 1 &lt; 2 &amp;&amp; "x"</code></pre>',
    )
    expect(render('> quoted **text**')).toBe('<blockquote>quoted <b>text</b></blockquote>')
  })

  it('always gives well-formed Telegram HTML, whatever the input', () => {
    const pieces = [
      '**',
      '*',
      '_',
      '~~',
      '`',
      '```\n',
      '[',
      '](',
      'http://a.b/',
      ')',
      '<',
      '>',
      '&',
      '"',
      '\n',
      '\n\n',
      '# ',
      '- ',
      '1. ',
      '> ',
      '|',
      '---',
      'x',
      ' ',
      '\\',
    ]
    let seed = 7
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    for (let round = 0; round < 2000; round++) {
      let markdown = ''
      for (let i = next() % 40; i > 0; i--) markdown += pieces[next() % pieces.length]
      const { html, text } = telegramHtml(markdown)
      expect(readAsTelegram(html), JSON.stringify(markdown)).toBe(text)
    }
  })
})
