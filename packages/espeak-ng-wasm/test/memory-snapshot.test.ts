import { describe, expect, it } from 'vitest'
import { MemorySnapshot } from '../src/memory-snapshot.js'

const PAGE = 64 * 1024

/** A memory of `pages` WebAssembly pages with a few bytes set here and there. */
function memoryWith(pages: number, writes: Array<[number, number]>): ArrayBuffer {
  const memory = new ArrayBuffer(pages * PAGE)
  const bytes = new Uint8Array(memory)
  for (const [at, value] of writes) bytes[at] = value
  return memory
}

describe('MemorySnapshot', () => {
  it('puts back every byte, zeroes included, whatever was written since', () => {
    const memory = memoryWith(8, [
      [5, 1],
      [3 * PAGE + 17, 2],
      [8 * PAGE - 1, 3],
    ])
    const before = new Uint8Array(memory).slice()
    const snapshot = new MemorySnapshot(memory)
    const bytes = new Uint8Array(memory)
    bytes.fill(0xaa, PAGE, 2 * PAGE) // a page that was all zeroes
    bytes[3 * PAGE + 17] = 9 // a byte of a kept page
    bytes.fill(0x55, 6 * PAGE + 3, 6 * PAGE + 40)
    snapshot.restoreInto(memory)
    expect(new Uint8Array(memory)).toEqual(before)
  })

  it('zeroes memory that grew since it was taken', () => {
    const small = memoryWith(2, [[100, 7]])
    const snapshot = new MemorySnapshot(small)
    const grown = memoryWith(4, [
      [100, 8],
      [3 * PAGE + 5, 9],
    ])
    snapshot.restoreInto(grown)
    const expected = new Uint8Array(4 * PAGE)
    expected[100] = 7
    expect(new Uint8Array(grown)).toEqual(expected)
  })

  it('capture() replaces the copy, also when the pages that hold something change', () => {
    const memory = memoryWith(4, [[10, 1]])
    const snapshot = new MemorySnapshot(memory)
    const bytes = new Uint8Array(memory)
    bytes[10] = 0
    bytes[2 * PAGE + 1] = 4
    snapshot.capture(memory)
    const after = new Uint8Array(memory).slice()
    bytes.fill(1)
    snapshot.restoreInto(memory)
    expect(new Uint8Array(memory)).toEqual(after)
  })
})
