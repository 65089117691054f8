// The text deltas of a reply, read one at a time from whichever kind of stream the caller has.

/** One read from the source. */
export type TextStep =
  | { kind: 'delta'; text: string }
  | { kind: 'done' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'invalid'; error: TypeError }

/** A source of text deltas: `next()` never rejects; `cancel()` tells the source to stop. */
export interface TextSource {
  next(): Promise<TextStep>
  cancel(reason: unknown): void
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return 'a string'
  if (typeof value !== 'object') return typeof value
  return value.constructor?.name ?? 'an object'
}

function step(value: unknown): TextStep {
  if (typeof value === 'string') return { kind: 'delta', text: value }
  const hint =
    value instanceof Uint8Array
      ? ' Decode bytes first, e.g. with .pipeThrough(new TextDecoderStream()).'
      : ' Pass the text deltas of the reply.'
  return {
    kind: 'invalid',
    error: new TypeError(`source must yield strings, got ${describe(value)}.${hint}`),
  }
}

function fromReadable(stream: ReadableStream<unknown>): TextSource {
  let reader: ReadableStreamDefaultReader<unknown> | undefined
  return {
    next() {
      reader ??= stream.getReader()
      return reader.read().then(
        (result) => (result.done ? { kind: 'done' } : step(result.value)),
        (error: unknown) => ({ kind: 'failed', error }),
      )
    },
    cancel(reason) {
      // Also settles a read in progress, which the iterator protocol cannot do.
      reader?.cancel(reason).catch(() => {})
    },
  }
}

function fromIterable(iterable: AsyncIterable<unknown>): TextSource {
  let iterator: AsyncIterator<unknown> | undefined
  return {
    async next() {
      try {
        iterator ??= iterable[Symbol.asyncIterator]()
        const result = await iterator.next()
        return result.done === true ? { kind: 'done' } : step(result.value)
      } catch (error) {
        return { kind: 'failed', error }
      }
    },
    cancel() {
      // Not awaited: an async generator runs return() only after a next() in progress settles.
      try {
        Promise.resolve(iterator?.return?.()).catch(() => {})
      } catch {}
    },
  }
}

/** Checks `source` and reads it as text deltas. */
export function textSource(source: unknown): TextSource {
  if (typeof ReadableStream === 'function' && source instanceof ReadableStream) {
    if (source.locked) {
      throw new TypeError('source must be a ReadableStream nobody is reading, got a locked one')
    }
    return fromReadable(source)
  }
  const iterate = (source as { [Symbol.asyncIterator]?: unknown } | null | undefined)?.[Symbol.asyncIterator]
  if (typeof iterate === 'function') return fromIterable(source as AsyncIterable<unknown>)
  const hint =
    typeof source === 'string'
      ? ' For a whole text, use synthesize().'
      : typeof (source as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator] ===
          'function'
        ? ' For an array of deltas, pass it through an async generator.'
        : ''
  throw new TypeError(
    `source must be an AsyncIterable<string> or a ReadableStream<string> of text deltas, got ${describe(source)}.${hint}`,
  )
}
