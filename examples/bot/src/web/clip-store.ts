import { randomUUID } from 'node:crypto'
import type { VoiceClip } from '../core.js'

/**
 * Voice clips waiting to be played, addressed by an unguessable id. Bounded by count and bytes:
 * the oldest clips go first, so a chatty page cannot grow the process without limit.
 */
export class ClipStore {
  readonly #clips = new Map<string, VoiceClip>()
  readonly #maxClips: number
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxClips = 200, maxBytes = 32 * 1024 * 1024) {
    this.#maxClips = maxClips
    this.#maxBytes = maxBytes
  }

  /** Keeps a clip and returns its id. */
  put(clip: VoiceClip): string {
    const id = randomUUID()
    this.#clips.set(id, clip)
    this.#bytes += clip.data.byteLength
    for (const [oldId, old] of this.#clips) {
      if (this.#clips.size <= this.#maxClips && this.#bytes <= this.#maxBytes) break
      this.#clips.delete(oldId)
      this.#bytes -= old.data.byteLength
    }
    return id
  }

  get(id: string): VoiceClip | undefined {
    return this.#clips.get(id)
  }
}
