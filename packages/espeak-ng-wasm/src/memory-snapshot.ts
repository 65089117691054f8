/**
 * A copy of a WebAssembly instance's linear memory, to put espeak-ng back into an earlier state.
 *
 * espeak-ng keeps state from one synthesis to the next in its C globals (the glottal phase, the
 * pitch flutter, the echo buffer, the intonation of the previous clause...), so the same text with
 * the same settings gave slightly different audio on every call. Its C API has no reset, but all of
 * that state lives in linear memory: restoring a copy taken after the voice was loaded makes each
 * synthesis start from the same state, whatever was spoken before.
 *
 * The copy keeps only the pages that hold something: after start-up and a voice, 15 of espeak-ng's
 * 16 MiB are zeroes, and each engine keeps two snapshots, on every worker thread.
 */
export class MemorySnapshot {
  /** The memory's length when captured. */
  #length = 0
  /** Offsets of the pages that were not all zero, and their bytes, in order. */
  #offsets: number[] = []
  #pages: Uint8Array[] = []

  /** Copies the memory as it is now. */
  constructor(memory: ArrayBuffer) {
    this.capture(memory)
  }

  /** Replaces the copy with the memory as it is now, reusing page buffers where it can. */
  capture(memory: ArrayBuffer): void {
    const view = new Uint8Array(memory)
    const offsets: number[] = []
    const pages: Uint8Array[] = []
    for (let start = 0; start < view.length; start += PAGE_BYTES) {
      const end = Math.min(view.length, start + PAGE_BYTES)
      if (isZero(memory, start, end)) continue
      const reuse = this.#pages[offsets.length]
      const page = reuse !== undefined && reuse.length === end - start ? reuse : new Uint8Array(end - start)
      page.set(view.subarray(start, end))
      offsets.push(start)
      pages.push(page)
    }
    this.#length = view.length
    this.#offsets = offsets
    this.#pages = pages
  }

  /**
   * Writes the copy back, zeroes where it kept nothing. Memory that has grown since is zeroed too:
   * the allocator, back to its earlier state, takes it for fresh memory and expects zeroes there,
   * as in a memory that never grew.
   */
  restoreInto(memory: ArrayBuffer): void {
    const view = new Uint8Array(memory)
    let at = 0
    for (let i = 0; i < this.#offsets.length; i++) {
      const offset = this.#offsets[i] as number
      const page = this.#pages[i] as Uint8Array
      if (offset > at) view.fill(0, at, offset)
      view.set(page, offset)
      at = offset + page.length
    }
    view.fill(0, at, Math.max(this.#length, view.length))
  }
}

// WebAssembly's own page size.
const PAGE_BYTES = 64 * 1024

// All zeroes, to compare pages against: a native comparison, where a JavaScript loop over the 16 MiB
// took most of a cold start (it runs before V8 has optimised it, twice per engine start).
const zeroPage = new Uint8Array(PAGE_BYTES)

function isZero(memory: ArrayBuffer, start: number, end: number): boolean {
  const length = end - start
  return Buffer.from(memory, start, length).equals(
    length === PAGE_BYTES ? zeroPage : zeroPage.subarray(0, length),
  )
}
