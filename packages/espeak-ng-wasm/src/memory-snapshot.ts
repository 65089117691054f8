/**
 * A copy of a WebAssembly instance's linear memory, to put espeak-ng back into an earlier state.
 *
 * espeak-ng keeps state from one synthesis to the next in its C globals (the glottal phase, the
 * pitch flutter, the echo buffer, the intonation of the previous clause...), so the same text with
 * the same settings gave slightly different audio on every call. Its C API has no reset, but all of
 * that state lives in linear memory: restoring a copy taken after the voice was loaded makes each
 * synthesis start from the same state, whatever was spoken before.
 */
export class MemorySnapshot {
  #bytes: Uint8Array

  /** Copies the memory as it is now. */
  constructor(memory: ArrayBuffer) {
    this.#bytes = new Uint8Array(memory).slice()
  }

  /** Replaces the copy with the memory as it is now, reusing its buffer when the size allows. */
  capture(memory: ArrayBuffer): void {
    const view = new Uint8Array(memory)
    // Fresh pages cost more to touch than to copy into: reuse the buffer unless the memory grew.
    if (view.length === this.#bytes.length) this.#bytes.set(view)
    else this.#bytes = view.slice()
  }

  /**
   * Writes the copy back. Memory that has grown since is zeroed: the allocator, back to its earlier
   * state, takes it for fresh memory and expects zeroes there, as in a memory that never grew.
   */
  restoreInto(memory: ArrayBuffer): void {
    const view = new Uint8Array(memory)
    view.set(this.#bytes)
    if (view.length > this.#bytes.length) view.fill(0, this.#bytes.length)
  }
}
