/** Where a spoken sentence is fetched from, as the chat API announces it. */
export interface ClipInfo {
  url: string
  durationMs: number
}

/**
 * Plays a reply's sentence clips one after the other as they arrive: each gets an `<audio>`
 * element in `box`, and the next starts when the one before it ends, so the reply is spoken
 * while the rest of it is still being written.
 */
export class ClipPlayer {
  readonly #box: HTMLElement
  readonly #waiting: HTMLAudioElement[] = []
  #current: HTMLAudioElement | undefined

  constructor(box: HTMLElement) {
    this.#box = box
  }

  add(clip: ClipInfo): void {
    const audio = document.createElement('audio')
    audio.controls = true
    audio.preload = 'auto'
    audio.src = clip.url
    audio.dataset.durationMs = String(clip.durationMs)
    // A clip that cannot play must not keep the ones after it silent.
    audio.addEventListener('ended', () => this.#next())
    audio.addEventListener('error', () => this.#next())
    this.#box.append(audio)
    this.#waiting.push(audio)
    if (this.#current === undefined) this.#next()
  }

  #next(): void {
    const audio = this.#waiting.shift()
    this.#current = audio
    // Browsers may refuse autoplay before the user has interacted; the controls stay usable then,
    // and the next clip to arrive tries again.
    audio?.play().catch(() => {
      if (this.#current === audio) this.#current = undefined
    })
  }
}
