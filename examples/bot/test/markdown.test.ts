import { describe, expect, it } from 'vitest'
import { type Block, type Inline, parseMarkdown, safeHref } from '../src/web/page/markdown.js'

// The page's Markdown reader, on its own: the tree it builds is what render-markdown.ts turns into
// DOM nodes (text as text nodes), so what is checked here is what a reply can and cannot become.

type Node = Block | Inline | { children: Block[] }

/** Every link address and every text in a tree, to check that nothing unsafe got through. */
function walk(nodes: readonly Node[], seen: { hrefs: string[]; texts: string[] } = { hrefs: [], texts: [] }) {
  for (const node of nodes) {
    if (typeof node === 'string') {
      seen.texts.push(node)
      continue
    }
    if ('href' in node) seen.hrefs.push(node.href)
    if ('text' in node) seen.texts.push(node.text)
    if ('children' in node) walk(node.children as Node[], seen)
    if ('items' in node) walk(node.items, seen)
    if ('head' in node) walk([...node.head, ...node.rows.flat()].flat(), seen)
  }
  return seen
}

const paragraph = (text: string) => {
  const [block] = parseMarkdown(text)
  expect(block?.type).toBe('paragraph')
  return (block as Extract<Block, { type: 'paragraph' }>).children
}

describe('the page Markdown reader', () => {
  it('reads emphasis, strong, nested emphasis, strikethrough and inline code', () => {
    expect(paragraph('**Ciao!** come *stai*?')).toEqual([
      { type: 'strong', children: ['Ciao!'] },
      ' come ',
      { type: 'em', children: ['stai'] },
      '?',
    ])
    expect(paragraph('*a **b** c* and **d _e_** and ***f*** and ~~g~~')).toEqual([
      { type: 'em', children: ['a ', { type: 'strong', children: ['b'] }, ' c'] },
      ' and ',
      { type: 'strong', children: ['d ', { type: 'em', children: ['e'] }] },
      ' and ',
      { type: 'strong', children: [{ type: 'em', children: ['f'] }] },
      ' and ',
      { type: 'del', children: ['g'] },
    ])
    expect(paragraph('snake_case_name, 2 * 3 * 4, \\*kept\\*, `a *b* <i>`')).toEqual([
      'snake_case_name, 2 * 3 * 4, *kept*, ',
      { type: 'code', text: 'a *b* <i>' },
    ])
    // An unclosed mark is text, and costs a bounded scan.
    expect(paragraph(`**${'x '.repeat(5000)}`)).toEqual([`**${'x '.repeat(5000).trimEnd()}`])
  })

  it('keeps raw HTML as the characters it is, and decodes entities to text', () => {
    expect(paragraph('<script>alert(1)</script> <img src=x onerror="alert(1)">')).toEqual([
      '<script>alert(1)</script> <img src=x onerror="alert(1)">',
    ])
    expect(paragraph('&lt;script&gt; &amp;lt; &#60;b&#x3E; &#0; &unknown;')).toEqual([
      '<script> &lt; <b> \uFFFD &unknown;',
    ])
  })

  it('makes links only of http, https and mailto addresses', () => {
    const links = walk(
      parseMarkdown(
        [
          '[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](&#106;avascript:alert(1))',
          '[d](data:text/html;base64,PHNjcmlwdD4=) [e](vbscript:x) [f](/api/history) [g](<javascript:x>)',
          '<javascript:alert(1)> ![h](javascript:alert(1)) [i](java\\script:x) [j]( javascript:x )',
          '[ok](https://example.com/a_(b) "title") <mailto:ada@example.com> see https://example.com/x.',
        ].join('\n'),
      ),
    )
    expect(walk(parseMarkdown('[a](javascript:alert(1))')).texts).toEqual(['a'])
    expect(links.hrefs).toEqual([
      'https://example.com/a_(b)',
      'mailto:ada@example.com',
      'https://example.com/x',
    ])
    expect(links.texts.join('')).not.toMatch(/\]\(/)
    expect(safeHref(' java\tscript:alert(1)')).toBeUndefined()
    expect(safeHref('HTTPS://Example.com')).toBe('https://example.com/')
  })

  it('reads code blocks as text, with the HTML in them left as written', () => {
    expect(parseMarkdown('Look:\n```html\n<script>alert(1)</script>\n<b>&amp;</b>\n```\nDone.')).toEqual([
      { type: 'paragraph', children: ['Look:'] },
      { type: 'code', language: 'html', text: '<script>alert(1)</script>\n<b>&amp;</b>' },
      { type: 'paragraph', children: ['Done.'] },
    ])
    // A language that is not a plain name is dropped rather than passed on.
    expect(parseMarkdown('```"><x\ny\n```')).toEqual([{ type: 'code', text: 'y' }])
  })

  it('reads headings, lists with nesting and tasks, quotes, tables and rules', () => {
    const p = (...children: Inline[]): Block => ({ type: 'paragraph', children })
    expect(
      parseMarkdown(
        '# Title\n- one\n- two\n  - inner\n- [x] done\n\n3. c\n4. d\n\n> said\n> twice\n\n---\n| a | b |\n|---|:-:|\n| `x|y` | **z** |',
      ),
    ).toEqual([
      { type: 'heading', level: 1, children: ['Title'] },
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [
          { children: [p('one')] },
          {
            children: [
              p('two'),
              { type: 'list', ordered: false, start: 1, items: [{ children: [p('inner')] }] },
            ],
          },
          { checked: true, children: [p('done')] },
        ],
      },
      { type: 'list', ordered: true, start: 3, items: [{ children: [p('c')] }, { children: [p('d')] }] },
      { type: 'quote', children: [p('said', { type: 'break' }, 'twice')] },
      { type: 'rule' },
      {
        type: 'table',
        head: [['a'], ['b']],
        rows: [[[{ type: 'code', text: 'x|y' }], [{ type: 'strong', children: ['z'] }]]],
      },
    ])
  })

  it('never throws and bounds nesting on hostile input', () => {
    expect(() => parseMarkdown('>'.repeat(10_000))).not.toThrow()
    expect(() => parseMarkdown('- '.repeat(5_000))).not.toThrow()
    expect(() => parseMarkdown('['.repeat(5_000) + '](x)'.repeat(100))).not.toThrow()
    expect(() => parseMarkdown('*_'.repeat(5_000))).not.toThrow()
    expect(walk(parseMarkdown('>'.repeat(10_000))).texts.join('')).toMatch(/^>+$/)
  })
})
