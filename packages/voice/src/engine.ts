/** What an engine is asked to say, already validated and normalised by `VoiceSystem`. */
export interface EngineSpeechOptions {
  /** Language code, e.g. `it`, `en-us`. */
  language: string
  /** Speaking rate in words per minute; the engine clamps it to its own range. */
  rate: number
  /** Loudness from 0 (silent) to 1 (the engine's normal level). */
  volume: number
  /** Voice variant name, or undefined for the language's default voice. */
  voice: string | undefined
  /** Pitch from 0 (lowest) to 100 (highest); 50 is the engine's normal pitch. */
  pitch: number
}

/** Mono 16-bit PCM produced by an engine. */
export interface EngineAudio {
  /** Signed 16-bit samples, one channel. */
  samples: Int16Array
  /** Samples per second. */
  sampleRate: number
}

/**
 * Lets a running synthesis stop early. Engines that can stop mid-way check `cancelled` between
 * chunks and then throw {@link EngineCancelledError}, which keeps the warm engine usable.
 */
export interface EngineCancellation {
  /** True once the caller no longer wants the result. */
  readonly cancelled: boolean
}

/**
 * A text-to-speech engine, loaded once per worker thread. `init()`, if the engine has one, is called
 * once before the first `synthesize()`; both may be slow, and both run on a worker thread, never on
 * the main thread.
 */
export interface Engine {
  /**
   * Most runs of `warmup()` on a short text. An engine compiled to JavaScript needs several before
   * V8's optimising compiler has caught up; one that runs native code is as fast on its first
   * sentence as later, and 1 is enough.
   * @default 8
   */
  readonly warmupRuns?: number
  /**
   * Prepares the engine (loads data, checks the binary...). Called once per thread; optional, for an
   * engine with nothing to prepare.
   */
  init?(): Promise<void> | void
  /**
   * Turns text into mono PCM. Must not write to stdout or stderr. Its result is checked: anything
   * but an `Int16Array` of samples and a positive whole `sampleRate` fails the task with
   * `VoiceError('engine-failed')`.
   */
  synthesize(
    text: string,
    options: EngineSpeechOptions,
    cancellation: EngineCancellation,
  ): Promise<EngineAudio> | EngineAudio
}

/**
 * The shape of a module that provides a custom engine: it exports a `createEngine` function (or a
 * default export that is one).
 */
export interface EngineModule {
  /** Builds a new, not yet initialised engine. */
  createEngine(): Engine
}

/** Thrown by an engine that stopped because {@link EngineCancellation.cancelled} became true. */
export class EngineCancelledError extends Error {
  override readonly name = 'EngineCancelledError'
  constructor() {
    super('synthesis cancelled')
  }
}

/** Names of the engines that ship with the package. */
export type BuiltInEngineName = 'espeak-ng-wasm' | 'espeak-ng'

/** The names of the engines that ship with the package. */
export const BUILT_IN_ENGINES: readonly string[] = [
  'espeak-ng-wasm',
  'espeak-ng',
] satisfies BuiltInEngineName[]

/** True for the names of the engines that ship with the package. */
export function isBuiltInEngine(name: string): name is BuiltInEngineName {
  return BUILT_IN_ENGINES.includes(name)
}
