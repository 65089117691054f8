import type { Block, Inline } from './markdown.js'

// Every piece of text becomes a text node and the only attributes set are an address already
// checked by safeHref, fixed rel/target values and a list's start number: nothing in a reply can
// become markup, a handler or a script URL.

function inline(nodes: Inline[], parent: Node): void {
  for (const node of nodes) {
    if (typeof node === 'string') {
      parent.appendChild(document.createTextNode(node))
      continue
    }
    switch (node.type) {
      case 'break':
        parent.appendChild(document.createElement('br'))
        break
      case 'code': {
        const code = document.createElement('code')
        code.textContent = node.text
        parent.appendChild(code)
        break
      }
      case 'link': {
        const link = document.createElement('a')
        link.href = node.href
        link.rel = 'noopener noreferrer'
        link.target = '_blank'
        inline(node.children, link)
        parent.appendChild(link)
        break
      }
      default: {
        const mark = document.createElement(node.type)
        inline(node.children, mark)
        parent.appendChild(mark)
      }
    }
  }
}

function block(node: Block, parent: Node): void {
  switch (node.type) {
    case 'paragraph': {
      const p = document.createElement('p')
      inline(node.children, p)
      parent.appendChild(p)
      return
    }
    case 'heading': {
      // Headings in a reply sit below the page's own h1.
      const h = document.createElement(`h${Math.min(node.level + 2, 6)}`)
      inline(node.children, h)
      parent.appendChild(h)
      return
    }
    case 'code': {
      const pre = document.createElement('pre')
      const code = document.createElement('code')
      code.textContent = node.text
      if (node.language !== undefined) code.dataset.language = node.language
      pre.appendChild(code)
      parent.appendChild(pre)
      return
    }
    case 'quote': {
      const quote = document.createElement('blockquote')
      for (const child of node.children) block(child, quote)
      parent.appendChild(quote)
      return
    }
    case 'list': {
      const list = document.createElement(node.ordered ? 'ol' : 'ul')
      if (node.ordered && node.start !== 1) list.setAttribute('start', String(node.start))
      for (const item of node.items) {
        const li = document.createElement('li')
        if (item.checked !== undefined) {
          const box = document.createElement('input')
          box.type = 'checkbox'
          box.checked = item.checked
          box.disabled = true
          li.appendChild(box)
          li.className = 'task'
        }
        for (const child of item.children) block(child, li)
        list.appendChild(li)
      }
      parent.appendChild(list)
      return
    }
    case 'table': {
      const table = document.createElement('table')
      const head = table.createTHead().insertRow()
      for (const cell of node.head) {
        const th = document.createElement('th')
        inline(cell, th)
        head.appendChild(th)
      }
      const body = table.createTBody()
      for (const row of node.rows) {
        const tr = body.insertRow()
        for (const cell of row) inline(cell, tr.insertCell())
      }
      // A wide table scrolls inside the bubble instead of widening the page.
      const wrap = document.createElement('div')
      wrap.className = 'table'
      wrap.appendChild(table)
      parent.appendChild(wrap)
      return
    }
    case 'rule':
      parent.appendChild(document.createElement('hr'))
  }
}

/** Builds the DOM for parsed Markdown. */
export function renderMarkdown(blocks: Block[]): DocumentFragment {
  const fragment = document.createDocumentFragment()
  for (const node of blocks) block(node, fragment)
  return fragment
}
