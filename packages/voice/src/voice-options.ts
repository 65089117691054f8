// The options of VoiceSystem and of its calls: their types, the names each call accepts, and the
// checks of their values. VoiceSystem applies them; nothing here holds state.
import { describe, refusal } from './describe.js'
import type { AudioFormat } from './encode.js'
import type { BuiltInEngineName } from './engine.js'
import { checkOptionNames, checkOptionsObject } from './known-options.js'
import type { EmojiMode } from './speech-text/emoji.js'

/** Options of a {@link VoiceSystem}. */
export interface VoiceSystemOptions {
  /**
   * Language code or BCP 47 tag, e.g. `it`, `it-IT`, `en-US`, `pt-BR`. With the built-in engines it
   * is mapped to the closest espeak-ng voice (`it-IT` → `it`, `es-AR` → `es-419`), and a language
   * espeak-ng lacks is a `RangeError` here, before anything is queued, suggesting the nearest code.
   * @default 'en'
   */
  language?: string
  /**
   * Speaking rate in words per minute, clamped to the engine's range (80-450 for espeak-ng).
   * @default 150
   */
  rate?: number
  /**
   * Loudness from 0 (silent) to 1 (the engine's normal level).
   * @default 1
   */
  volume?: number
  /**
   * Voice variant, e.g. `f3`, `m1`, `whisper` (espeak-ng's `+variant`).
   * @default the language's default voice
   */
  voice?: string
  /**
   * Pitch from 0 to 100; 50 is the engine's normal pitch.
   * @default 50
   */
  pitch?: number
  /**
   * Which engine speaks: `'espeak-ng-wasm'` (needs the optional GPL-3.0-or-later package
   * `@taurobot/espeak-ng-wasm`, or the older `@echogarden/espeak-ng-emscripten`), `'espeak-ng'`
   * (the system binary), or the absolute path / `file:` URL of a module exporting `createEngine()`.
   * @default 'espeak-ng-wasm'
   */
  engine?: BuiltInEngineName | (string & {})
  /**
   * Longest text accepted, in characters: as given, and with `input: 'markdown'` also as read
   * aloud by {@link speechText} (where dates and sums of money are written out).
   * @default 5000
   */
  maxChars?: number
  /**
   * What replies read with `input: 'markdown'` do with emoji: `'drop'` leaves them out, `'name'`
   * says their short names in English or Italian ("Fatto ✅" → "Fatto, segno di spunta."; other
   * languages drop them), as `speechText` does with its `emoji` option. A call's own `emoji` wins.
   * @default 'drop'
   */
  emoji?: EmojiMode
}

/** Per-call options of {@link VoiceSystem.synthesize} and {@link VoiceSystem.textToSpeech}. */
export interface SynthesizeOptions {
  /**
   * `'ogg'` (Opus in Ogg: what Telegram plays as a voice note) or `'wav'`. For `textToSpeech` the
   * default comes from the file extension.
   * @default 'ogg'
   */
  format?: AudioFormat
  /**
   * `'markdown'`: the text is a chat reply, spoken as {@link speechText} reads it (no markup, links
   * by their text, emoji left out or named (see `emoji`), dates and money in words). `'text'`: spoken
   * exactly as given.
   * @default 'markdown'
   */
  input?: 'markdown' | 'text'
  /**
   * `'drop'` or `'name'`, as the `VoiceSystem` option of that name, for this call only. Has no
   * effect with `input: 'text'`.
   * @default the VoiceSystem's `emoji`
   */
  emoji?: EmojiMode
  /** Cancels the task: a queued task is removed at once and the call rejects with the signal's reason. */
  signal?: AbortSignal
  /**
   * Rejects with `VoiceError('timeout')` and cancels the task if it has not finished in time.
   * @default no limit
   */
  timeoutMs?: number
}

/** Options of {@link VoiceSystem.warmup}. */
export interface WarmupOptions extends Pick<SynthesizeOptions, 'signal' | 'timeoutMs'> {
  /**
   * Warm every thread the pool may start (`maxThreads`), not just one, so that replies arriving
   * together right after start all find a warm engine. Starts all those threads now; they stop
   * again after `idleTimeout` like any idle thread.
   * @default false
   */
  allThreads?: boolean
}

/** What {@link VoiceSystem.warmup} resolves with. */
export interface WarmupResult {
  /**
   * The engine's load time on the warmed thread, or with `allThreads` the slowest of them;
   * undefined when every warmed thread had already loaded it.
   */
  engineInitMs: number | undefined
  /** How many distinct worker threads ran the warm-up. */
  threads: number
}

/** Encoded audio returned by {@link VoiceSystem.synthesize}. */
export interface SynthesizedAudio {
  /** The encoded file's bytes. */
  data: Uint8Array
  /** The container format. */
  format: AudioFormat
  /** `audio/ogg` or `audio/wav`. */
  mimeType: string
  /** Sample rate of the encoded audio (48 000 for Ogg/Opus). */
  sampleRate: number
  /** Length of the speech in milliseconds. */
  durationMs: number
}

/** Options of {@link VoiceSystem.stream}; `timeoutMs` applies to each sentence. */
export interface StreamOptions extends SynthesizeOptions {
  /**
   * Most sentences being synthesized or waiting to be yielded at once. Reading the source pauses
   * while this many are ahead of the consumer.
   * @default 4
   */
  readAhead?: number
}

/** One sentence of a streamed reply: its audio and the words it speaks. */
export interface StreamedAudio extends SynthesizedAudio {
  /** The text given to the engine for this clip (as read aloud), e.g. for captions. */
  text: string
}

// Records, so that an option added to an interface and not here fails to type-check.
export const voiceSystemOptionNames = Object.keys({
  language: true,
  rate: true,
  volume: true,
  voice: true,
  pitch: true,
  engine: true,
  maxChars: true,
  emoji: true,
} satisfies Record<keyof VoiceSystemOptions, true>)
export const synthesizeOptionNames = Object.keys({
  format: true,
  input: true,
  emoji: true,
  signal: true,
  timeoutMs: true,
} satisfies Record<keyof SynthesizeOptions, true>)
export const streamOptionNames = Object.keys({
  format: true,
  input: true,
  emoji: true,
  signal: true,
  timeoutMs: true,
  readAhead: true,
} satisfies Record<keyof StreamOptions, true>)
export const warmupOptionNames = Object.keys({
  allThreads: true,
  signal: true,
  timeoutMs: true,
} satisfies Record<keyof WarmupOptions, true>)

/** Checks that per-call `options` is an object holding only option names of `where`. */
export function checkCallOptions(options: unknown, names: readonly string[], where: string): void {
  checkOptionsObject(options, where)
  checkOptionNames(options, names, where)
}

const formats: readonly AudioFormat[] = ['ogg', 'wav']
export const extensions: Record<string, AudioFormat> = {
  '.ogg': 'ogg',
  '.oga': 'ogg',
  '.opus': 'ogg',
  '.wav': 'wav',
}

export function checkRate(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw refusal(
      value,
      'number',
      `rate must be a positive number of words per minute, got ${describe(value)}`,
    )
  }
  return value
}

export function checkVolume(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw refusal(value, 'number', `volume must be a number from 0 to 1, got ${describe(value)}`)
  }
  return value
}

export function checkPitch(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 100) {
    throw refusal(value, 'number', `pitch must be a number from 0 to 100, got ${describe(value)}`)
  }
  return value
}

export function checkFormat(value: unknown): AudioFormat {
  if (!formats.includes(value as AudioFormat)) {
    throw refusal(value, 'string', `format must be "ogg" or "wav", got ${describe(value)}`)
  }
  return value as AudioFormat
}
