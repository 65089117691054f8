import { describe, expect, it } from 'vitest'
import { jsonItems } from '../../../src/backends/sqlite/json-items.js'

describe('jsonItems', () => {
  const lists: Array<[string, unknown[]]> = [
    ['none', []],
    ['one message', [{ role: 'user', content: 'hi', timestamp: 't', id: 'a' }]],
    [
      'text that looks like structure',
      [
        { role: 'user', content: '},{"role":"x"}],[' },
        { role: 'user', content: 'a "quoted" \\ back\\slash\\\\", and {braces} [brackets], commas' },
        { role: 'user', content: '\\' },
        { role: 'user', content: '\\"' },
        { role: 'user', content: '' },
      ],
    ],
    [
      'nested values and scalars',
      [
        { role: 'user', content: 'x', meta: { list: [1, [2, { a: '],' }]], empty: {}, none: [] } },
        'a string, with a comma',
        42,
        -1.5e-7,
        true,
        null,
        [],
        [{}, []],
      ],
    ],
    ['escapes and multi-byte text', [{ content: '\u0000\u001f\n\t\ud800 “Ciao” 🚀' }, { 'odd "key",': 1 }]],
  ]
  for (const [name, list] of lists) {
    it(`splits an array's JSON into each item's own JSON: ${name}`, () => {
      expect(jsonItems(JSON.stringify(list))).toEqual(list.map((item) => JSON.stringify(item)))
    })
  }
})
