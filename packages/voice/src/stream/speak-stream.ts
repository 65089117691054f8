import { SentenceSplitter } from './sentence-splitter.js'
import type { TextSource, TextStep } from './text-source.js'

/** How {@link speakStream} speaks the chunks of a reply. */
export interface StreamPlan<T> {
  /** Starts speaking one chunk; undefined when the chunk has nothing to say. */
  start(chunk: string, signal: AbortSignal): Promise<T> | undefined
  /** Most chunks being spoken or waiting to be yielded at once. */
  readAhead: number
  /** Longest chunk, in characters, that may wait for its end. */
  maxChars: number
  signal: AbortSignal | undefined
}

const HEAD = Symbol('head')
const ABORTED = Symbol('aborted')

/**
 * Yields the speech of each chunk of `source` in order, starting each chunk as soon as it is
 * complete. On return, abort or error, every started task is cancelled and settled before the
 * generator finishes, and the source is told to stop.
 */
export async function* speakStream<T>(
  source: TextSource,
  plan: StreamPlan<T>,
): AsyncGenerator<T, void, undefined> {
  const splitter = new SentenceSplitter()
  const cancel = new AbortController()
  // Until settled, so that the finished clips are not kept for the whole reply.
  const started = new Set<Promise<T>>()
  const inFlight: Promise<T>[] = []
  const ready: string[] = []
  let reading: Promise<TextStep> | undefined
  let ended = false
  let failure: { error: unknown } | undefined
  const { signal } = plan
  let onAbort: (() => void) | undefined
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
  try {
    for (;;) {
      signal?.throwIfAborted()
      while (ready.length > 0 && inFlight.length < plan.readAhead) {
        const task = plan.start(ready.shift() as string, cancel.signal)
        if (task === undefined) continue
        // Its failure is thrown where it is yielded, or it is settled in `finally`.
        const forget = () => started.delete(task)
        task.then(forget, forget)
        started.add(task)
        inFlight.push(task)
      }
      // Bounded read-ahead: a fast source is read only while there is room for what it completes.
      if (!ended && reading === undefined && ready.length === 0 && inFlight.length < plan.readAhead) {
        reading = source.next()
      }
      const head = inFlight[0]
      if (head === undefined && reading === undefined) {
        if (failure !== undefined) throw failure.error
        return
      }
      const waits: Promise<TextStep | typeof HEAD | typeof ABORTED>[] = [aborted]
      if (head !== undefined) waits.push(head.then(...settledAs(HEAD)))
      if (reading !== undefined) waits.push(reading)
      const next = await Promise.race(waits)
      if (next === ABORTED) throw signal?.reason
      if (next === HEAD) {
        inFlight.shift()
        yield await (head as Promise<T>)
        continue
      }
      reading = undefined
      if (next.kind === 'invalid') throw next.error
      if (next.kind === 'delta') {
        ready.push(...splitter.push(next.text))
        if (splitter.pendingLength > plan.maxChars) {
          throw new RangeError(
            `a sentence of the source must be at most maxChars (${plan.maxChars}) characters, got one of ${splitter.pendingLength} without an end. Raise maxChars or end sentences sooner.`,
          )
        }
        continue
      }
      ended = true
      // The sentences completed before a failure are still spoken; the one in progress is not.
      if (next.kind === 'failed') failure = { error: next.error }
      else ready.push(...splitter.end())
    }
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    const reason = signal?.aborted ? signal.reason : undefined
    if (!ended) source.cancel(reason)
    cancel.abort(reason)
    await Promise.allSettled([...started])
  }
}

function settledAs<V>(value: V): [() => V, () => V] {
  return [() => value, () => value]
}
