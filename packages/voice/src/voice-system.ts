import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { dirname, extname, resolve } from 'node:path'
import { describe, refusal } from './describe.js'
import type { AudioFormat } from './encode.js'
import { mimeTypes } from './encode.js'
import type { EngineSpeechOptions } from './engine.js'
import { isBuiltInEngine } from './engine.js'
import { checkEngine } from './engine-spec.js'
import { VoiceError } from './errors.js'
import { checkEspeakLanguage, findEspeakVoice } from './espeak-voices.js'
import { checkOptionNames, checkOptionsObject } from './known-options.js'
import { makeDirectories } from './make-directories.js'
import type { PoolTask, RunOptions } from './pool/pool.js'
import { sharedPool } from './pool/shared-pool.js'
import type { EmojiMode } from './speech-text/emoji.js'
import { checkEmoji, isLanguageCode, readAloud } from './speech-text/speech-text.js'
import { speakStream } from './stream/speak-stream.js'
import { textSource } from './stream/text-source.js'
import {
  checkCallOptions,
  checkFormat,
  checkPitch,
  checkRate,
  checkVolume,
  extensions,
  type StreamedAudio,
  type StreamOptions,
  type SynthesizedAudio,
  type SynthesizeOptions,
  streamOptionNames,
  synthesizeOptionNames,
  type VoiceSystemOptions,
  voiceSystemOptionNames,
  type WarmupOptions,
  type WarmupResult,
  warmupOptionNames,
} from './voice-options.js'

/**
 * Speaks text on the process-wide worker pool. Create as many as you like (one per chat, say): they
 * all share the same threads and the same warm engines.
 * @example
 * ```ts
 * import { VoiceSystem } from '@taurobot/voice'
 * const voice = new VoiceSystem({ language: 'it', rate: 150, volume: 1.0 })
 * const audio = await voice.synthesize('Ciao!', { format: 'ogg' })
 * await voice.textToSpeech('Ciao!', 'replies/42.ogg')
 * ```
 */
export class VoiceSystem {
  #options: EngineSpeechOptions
  readonly #engine: string
  readonly #builtIn: boolean
  readonly #maxChars: number
  readonly #emoji: EmojiMode
  readonly #pending = new Set<Promise<unknown>>()

  constructor(options: VoiceSystemOptions = {}) {
    checkOptionsObject(options, 'VoiceSystem')
    checkOptionNames(options, voiceSystemOptionNames, 'new VoiceSystem()')
    const engine = checkEngine(options.engine ?? 'espeak-ng-wasm')
    this.#engine = engine
    this.#builtIn = isBuiltInEngine(engine)
    const maxChars = options.maxChars ?? 5000
    if (typeof maxChars !== 'number' || !Number.isInteger(maxChars) || maxChars < 1) {
      throw refusal(maxChars, 'number', `maxChars must be a positive integer, got ${describe(maxChars)}`)
    }
    this.#maxChars = maxChars
    this.#emoji = checkEmoji(options.emoji ?? 'drop')
    this.#options = {
      language: this.#checkLanguage(options.language ?? 'en'),
      rate: checkRate(options.rate ?? 150),
      volume: checkVolume(options.volume ?? 1),
      voice: options.voice === undefined ? undefined : this.#checkVoice(options.voice),
      pitch: checkPitch(options.pitch ?? 50),
    }
  }

  /** Sets the speaking rate in words per minute (clamped to the engine's range). */
  setRate(wordsPerMinute: number): void {
    this.#options = { ...this.#options, rate: checkRate(wordsPerMinute) }
  }

  /** Sets the loudness, 0..1. */
  setVolume(volume: number): void {
    this.#options = { ...this.#options, volume: checkVolume(volume) }
  }

  /** Sets the pitch, 0..100. */
  setPitch(pitch: number): void {
    this.#options = { ...this.#options, pitch: checkPitch(pitch) }
  }

  /** Sets the language (code or BCP 47 tag, as the `language` option). */
  setLanguage(language: string): void {
    this.#options = { ...this.#options, language: this.#checkLanguage(language) }
  }

  /** Sets the voice variant, or `undefined` for the language's default voice. */
  setVoice(voice: string | undefined): void {
    this.#options = { ...this.#options, voice: voice === undefined ? undefined : this.#checkVoice(voice) }
  }

  /** The current speech settings. */
  get settings(): Readonly<EngineSpeechOptions> {
    return { ...this.#options }
  }

  /**
   * Starts a worker thread, loads the engine on it and runs it on a short text until its compiled
   * code has settled (a few runs), so that the first reply does not pay for it. With
   * `{ allThreads: true }` it does so on every thread the pool may start (`maxThreads`), at once.
   * @example
   * ```ts
   * const voice = new VoiceSystem({ language: 'it' })
   * await voice.warmup({ allThreads: true }) // before the bot starts taking messages
   * ```
   */
  async warmup(options: WarmupOptions = {}): Promise<WarmupResult> {
    checkCallOptions(options, warmupOptionNames, 'warmup()')
    const { allThreads = false, ...rest } = options
    if (typeof allThreads !== 'boolean') {
      throw new TypeError(`allThreads must be a boolean, got ${describe(allThreads)}`)
    }
    const [task, run] = this.#task('warmup', 'ok', 'ogg', rest)
    if (!allThreads) {
      const result = await this.#track(sharedPool().run(task, run))
      return { engineInitMs: result.engineInitMs, threads: 1 }
    }
    const results = await Promise.all(
      sharedPool()
        .runOnEveryThread(task, run)
        .map((pending) => this.#track(pending)),
    )
    const loads = results.flatMap((r) => (r.engineInitMs === undefined ? [] : [r.engineInitMs]))
    return {
      engineInitMs: loads.length === 0 ? undefined : Math.max(...loads),
      threads: new Set(results.map((r) => r.threadId)).size,
    }
  }

  /** Turns text into encoded audio (Ogg/Opus by default). Markdown by default: see `input`. */
  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<SynthesizedAudio> {
    checkCallOptions(options, synthesizeOptionNames, 'synthesize()')
    text = this.#spoken(text, options.input, options.emoji)
    const format = checkFormat(options.format ?? 'ogg')
    const [task, run] = this.#task('synthesize', this.#checkText(text), format, options)
    const result = await this.#track(sharedPool().run(task, run))
    return {
      data: result.data,
      format,
      mimeType: mimeTypes[format],
      sampleRate: result.sampleRate,
      durationMs: result.durationMs,
    }
  }

  /**
   * Speaks a reply while it is being written: yields one clip per sentence as soon as the sentence
   * is complete, in order, synthesizing the next ones meanwhile on the shared pool. The clips
   * together say what `synthesize()` says for the whole reply. Breaking out of the loop, an
   * aborted `signal` or a failure cancels the sentences already started and stops reading
   * `source`; when `source` throws, the sentences it completed are yielded first.
   * @example
   * ```ts
   * const voice = new VoiceSystem({ language: 'it' })
   * async function* reply() {
   *   yield 'Certo! Il Dott. Rossi '
   *   yield 'riceve alle 9. A presto.'
   * }
   * for await (const clip of voice.stream(reply(), { format: 'ogg' })) console.log(clip.text)
   * ```
   */
  stream(
    source: AsyncIterable<string> | ReadableStream<string>,
    options: StreamOptions = {},
  ): AsyncGenerator<StreamedAudio, void, undefined> {
    const text = textSource(source)
    checkCallOptions(options, streamOptionNames, 'stream()')
    const { readAhead = 4, input = 'markdown', emoji: givenEmoji, format: given, ...run } = options
    if (typeof readAhead !== 'number' || !Number.isInteger(readAhead) || readAhead < 1) {
      throw refusal(readAhead, 'number', `readAhead must be a positive integer, got ${describe(readAhead)}`)
    }
    if (input !== 'markdown' && input !== 'text') {
      throw refusal(input, 'string', `input must be "markdown" or "text", got ${describe(input)}`)
    }
    const emoji = checkEmoji(givenEmoji ?? this.#emoji)
    const format = checkFormat(given ?? 'ogg')
    // Checks signal and timeoutMs now, as synthesize() would for each sentence.
    this.#task('synthesize', '', format, run)
    return speakStream<StreamedAudio>(text, {
      readAhead,
      maxChars: this.#maxChars,
      signal: run.signal,
      start: (chunk, signal) => {
        const spoken = input === 'text' ? chunk.trim() : this.#readAloud(chunk, emoji)
        if (spoken === '') return undefined
        return this.synthesize(spoken, { ...run, format, input: 'text', signal }).then((audio) => ({
          ...audio,
          text: spoken,
        }))
      },
    })
  }

  /**
   * Synthesizes `text` and writes it to `outputPath` (format from the extension: `.ogg`/`.oga`/
   * `.opus` or `.wav`), creating missing directories. The file appears complete or not at all.
   * Resolves with the absolute path written.
   */
  async textToSpeech(text: string, outputPath: string, options: SynthesizeOptions = {}): Promise<string> {
    checkCallOptions(options, synthesizeOptionNames, 'textToSpeech()')
    if (typeof outputPath !== 'string' || outputPath === '') {
      throw new TypeError(`outputPath must be a non-empty string, got ${describe(outputPath)}`)
    }
    const fromExtension = extensions[extname(outputPath).toLowerCase()]
    if (options.format === undefined && fromExtension === undefined) {
      throw new RangeError(
        `outputPath must end in .ogg, .oga, .opus or .wav (or pass { format }), got ${describe(outputPath)}`,
      )
    }
    const format = checkFormat(options.format ?? fromExtension)
    const path = resolve(outputPath)
    // Tracked as one unit from the start, so close() also waits for the file to be written.
    const job = this.synthesize(text, { ...options, format }).then((audio) =>
      writeAtomically(path, audio.data),
    )
    this.#pending.add(job)
    const forget = () => this.#pending.delete(job)
    job.then(forget, forget)
    return sharedPool().track(job)
  }

  /** Waits for this instance's pending calls; the shared pool stays open for the others. */
  async [Symbol.asyncDispose](): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** The text the engine is given: the reply as read aloud, or with `input: 'text'` the text itself. */
  #spoken(text: unknown, input: unknown = 'markdown', emoji: unknown = this.#emoji): string {
    if (input !== 'markdown' && input !== 'text') {
      throw refusal(input, 'string', `input must be "markdown" or "text", got ${describe(input)}`)
    }
    const mode = checkEmoji(emoji)
    const checked = this.#checkText(text)
    if (input === 'text') return checked
    const spoken = this.#readAloud(checked, mode)
    if (spoken === '') {
      // Emoji left out by default are the likeliest reason: when naming them gives words, say so.
      const naming =
        mode === 'drop' && this.#readAloud(checked, 'name') !== ''
          ? " Pass { emoji: 'name' } to have its emoji said by name, or { input: 'text' } to have it spoken as written."
          : " Pass { input: 'text' } to have it spoken as written."
      throw new RangeError(
        `text must contain something to say once markup, code and emoji are left out, got none.${naming}`,
      )
    }
    if (spoken.length > this.#maxChars) {
      throw new RangeError(
        `text must be at most maxChars (${this.#maxChars}) characters as read aloud (figures in words), got ${spoken.length}. Split it or raise maxChars.`,
      )
    }
    return spoken
  }

  /** `text` as `speechText` reads it in the current language. */
  #readAloud(text: string, emoji: EmojiMode): string {
    // A custom engine may take any language name; one that is not a code gets the neutral clean-up.
    const { language } = this.#options
    return readAloud(text, isLanguageCode(language) ? language : 'und', emoji)
  }

  #checkText(text: unknown): string {
    if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`)
    if (text.trim() === '') throw new RangeError('text must contain something to say, got an empty string')
    if (text.length > this.#maxChars) {
      throw new RangeError(
        `text must be at most maxChars (${this.#maxChars}) characters, got ${text.length}. Split it or raise maxChars.`,
      )
    }
    return text
  }

  #checkLanguage(language: unknown): string {
    if (this.#builtIn) return checkEspeakLanguage(language)
    if (typeof language !== 'string' || language === '') {
      throw new TypeError(`language must be a non-empty string such as "it", got ${describe(language)}`)
    }
    return language
  }

  #checkVoice(voice: unknown): string {
    if (typeof voice !== 'string' || voice === '') {
      throw new TypeError(`voice must be a non-empty string such as "f3", got ${describe(voice)}`)
    }
    if (!this.#builtIn) return voice
    const known = findEspeakVoice(voice)
    if (known === undefined) {
      throw new RangeError(
        `voice must be an espeak-ng voice variant (e.g. "f3", "m1", "whisper"), got ${describe(voice)}`,
      )
    }
    return known
  }

  /** The pool task for `text` with the current settings, and its checked per-call options. */
  #task(
    kind: PoolTask['kind'],
    text: string,
    format: AudioFormat,
    options: SynthesizeOptions,
  ): [PoolTask, RunOptions] {
    const { signal, timeoutMs } = options
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}`)
    }
    if (
      timeoutMs !== undefined &&
      (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
    ) {
      throw refusal(
        timeoutMs,
        'number',
        `timeoutMs must be a positive number of milliseconds, got ${describe(timeoutMs)}`,
      )
    }
    return [
      { kind, engine: this.#engine, text, options: this.#options, format },
      { signal, timeoutMs },
    ]
  }

  /** Keeps `pending` among this instance's calls until it settles, for `Symbol.asyncDispose`. */
  #track<T>(pending: Promise<T>): Promise<T> {
    this.#pending.add(pending)
    const forget = () => this.#pending.delete(pending)
    pending.then(forget, forget)
    return pending
  }
}

async function writeAtomically(path: string, data: Uint8Array): Promise<string> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await makeDirectories(dirname(path))
    const handle = await open(temporary, 'w')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
    return path
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => {})
    const code = (cause as { code?: unknown } | null)?.code
    throw new VoiceError(
      'io',
      `cannot write "${path}": ${String(code ?? cause)}. Check that the directory is writable; the audio was synthesized but not saved.`,
      { cause, details: { path, code } },
    )
  }
}
