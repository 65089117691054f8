/** Replies longer than this are spoken only up to the last sentence that fits. */
export const MAX_SPOKEN_CHARS = 600

/** The offline responder's first line, a note for the reader that is not spoken. */
export const OFFLINE_NOTE = /^\s*\[[^\n]*\]\s*(?:\n|$)/

/** One sentence of a reply, spoken; `text` is the words it says. */
export interface SpokenClip {
  data: Uint8Array
  mimeType: string
  durationMs: number
  text: string
}

/** The part of `@taurobot/voice`'s `VoiceSystem` that speaks a reply while it is written. */
export interface StreamingVoice {
  stream(
    source: AsyncIterable<string>,
    options: { format: 'ogg'; signal?: AbortSignal },
  ): AsyncIterable<SpokenClip>
}

/** Feeds a reply's deltas to the voice as they arrive; see `speakWhileWriting`. */
export interface ReplySpeaker {
  /** The next piece of the reply, as the page shows it. */
  write(delta: string): void
  /** Whether anything was written yet. */
  readonly written: boolean
  /** The reply is complete: resolves once every clip was handed over, with the error if speech failed. */
  end(): Promise<string | undefined>
  /** The reply failed: stops speaking and resolves once the voice has let go. */
  abort(reason: unknown): Promise<void>
}

/**
 * Speaks a reply sentence by sentence while the model is still writing it, handing each clip to
 * `onClip` in order. What is spoken is what `spokenText` speaks for the whole reply: the
 * offline note is dropped, and speaking stops at the last whole sentence within
 * `MAX_SPOKEN_CHARS`, so a long reply does not keep the pool busy after the cap.
 */
export function speakWhileWriting(voice: StreamingVoice, onClip: (clip: SpokenClip) => void): ReplySpeaker {
  const queue: string[] = []
  const controller = new AbortController()
  let wake: (() => void) | undefined
  let ended = false
  let written = false
  let head = ''
  let headDone = false

  const push = (text: string) => {
    if (text === '' || ended) return
    queue.push(text)
    wake?.()
  }
  // The note can only be told apart once its line is complete, so the first line waits for its end.
  const feed = (delta: string) => {
    if (headDone) return push(delta)
    head += delta
    const start = head.trimStart()
    if (start === '' || (start.startsWith('[') && !head.includes('\n'))) return
    headDone = true
    push(head.replace(OFFLINE_NOTE, ''))
  }

  async function* source(): AsyncGenerator<string> {
    for (;;) {
      const next = queue.shift()
      if (next !== undefined) yield next
      else if (ended) return
      else await new Promise<void>((resolve) => (wake = resolve))
    }
  }

  const speaking = (async (): Promise<string | undefined> => {
    let used = 0
    try {
      for await (const clip of voice.stream(source(), { format: 'ogg', signal: controller.signal })) {
        used += (used > 0 ? 1 : 0) + clip.text.length
        if (used > MAX_SPOKEN_CHARS) break
        onClip(clip)
      }
      return undefined
    } catch (error) {
      if (controller.signal.aborted) return undefined
      return error instanceof Error ? error.message : String(error)
    } finally {
      // Past the cap or after a failure, later deltas are dropped rather than queued for no one.
      ended = true
      queue.length = 0
      wake?.()
    }
  })()

  return {
    write(delta) {
      written = true
      feed(delta)
    },
    get written() {
      return written
    },
    end() {
      if (!headDone) {
        headDone = true
        push(head.replace(OFFLINE_NOTE, ''))
      }
      ended = true
      wake?.()
      return speaking
    },
    async abort(reason) {
      controller.abort(reason)
      ended = true
      wake?.()
      await speaking
    },
  }
}
