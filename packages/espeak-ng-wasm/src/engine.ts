import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileWasm, type EspeakNgWasmModule, instantiate } from './emscripten-module.js'
import { describeStatus, EspeakNgError } from './errors.js'
import { checkNames } from './known-names.js'
import { MemorySnapshot } from './memory-snapshot.js'
import { type EspeakNgParameters, validateParameters } from './parameters.js'
import { VoiceCatalog } from './voices.js'

/**
 * The directory espeak-ng is given as its data path: the one holding `espeak-ng-data/` (every
 * language and voice variant), inside this package's dist/.
 */
export const espeakNgDataPath: string = dirname(fileURLToPath(import.meta.url))

/** The audio of one synthesize() call. */
export interface EspeakNgSynthesis {
  /** Mono 16-bit samples at {@link EspeakNg.sampleRate}, a copy the caller owns. */
  samples: Int16Array
  /** True when `shouldStop` ended the synthesis early; `samples` then holds the audio made so far. */
  stopped: boolean
}

/** Options of {@link EspeakNg.synthesize}. */
export interface EspeakNgSynthesizeOptions {
  /**
   * Asked after every chunk of audio espeak-ng produces (a few hundred milliseconds of speech);
   * returning true stops the synthesis, which then returns what it has with `stopped: true`.
   * If it throws, the synthesis stops and the error is rethrown; the engine stays usable.
   */
  shouldStop?: () => boolean
}

/** One espeak-ng instance with its own state (voice, parameters). Synchronous and single-threaded. */
export interface EspeakNg {
  /** Samples per second of the audio, 22050. */
  readonly sampleRate: number
  /**
   * Selects a voice by espeak-ng name: a language ("it", "en-us") optionally with a variant
   * ("it+Marco"). Until called, espeak-ng uses its default voice ("en").
   * @throws {@link EspeakNgError} with code `unknown-voice`; the previous voice stays selected.
   */
  setVoice(name: string): void
  /**
   * Sets rate, volume and pitch for the following syntheses (espeak-ng's defaults: 175, 100, 50).
   * @throws RangeError naming the field when a value is not a number in its range.
   */
  setParameters(parameters: EspeakNgParameters): void
  /**
   * Speaks `text` (UTF-8 plain text) with the current voice and parameters. An empty string gives
   * zero samples.
   * @throws {@link EspeakNgError} with code `synthesis-failed`.
   */
  synthesize(text: string, options?: EspeakNgSynthesizeOptions): EspeakNgSynthesis
}

/** Options of {@link loadEspeakNg}. */
export interface LoadEspeakNgOptions {
  /**
   * A module from {@link compileEspeakNg}, to compile once and instantiate in several worker
   * threads (a WebAssembly.Module can be posted to a worker).
   * @default compiled from this package's espeak-ng.wasm
   */
  wasmModule?: WebAssembly.Module
  /**
   * The directory that holds `espeak-ng-data/`.
   * @default {@link espeakNgDataPath}
   */
  dataPath?: string
}

// espeak-ng's own lines are kept for error messages; a few are enough to say what happened.
const keptMessages = 8

/**
 * Compiles espeak-ng's WebAssembly once, so that several threads can each instantiate it cheaply
 * with `loadEspeakNg({ wasmModule })`.
 */
export function compileEspeakNg(): Promise<WebAssembly.Module> {
  return compileWasm()
}

/**
 * Starts a new, independent espeak-ng instance.
 * @example
 * ```ts
 * const espeak = await loadEspeakNg()
 * espeak.setVoice('it')
 * espeak.setParameters({ rate: 150, volume: 100, pitch: 50 })
 * const { samples } = espeak.synthesize('Ciao! Come posso aiutarti oggi?')
 * console.log(samples.length / espeak.sampleRate, 'seconds')
 * ```
 * @throws {@link EspeakNgError} with code `init-failed`.
 */
export async function loadEspeakNg(options: LoadEspeakNgOptions = {}): Promise<EspeakNg> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `[@taurobot/espeak-ng-wasm] loadEspeakNg() options must be an object, got ${String(options)}`,
    )
  }
  checkNames(options, ['wasmModule', 'dataPath'], 'loadEspeakNg()')
  const dataPath = options.dataPath ?? espeakNgDataPath
  if (!existsSync(join(dataPath, 'espeak-ng-data', 'phontab'))) {
    throw new EspeakNgError(
      'init-failed',
      `espeak-ng's data is missing: "${join(dataPath, 'espeak-ng-data')}" has no phontab. ` +
        (options.dataPath === undefined
          ? 'Reinstall @taurobot/espeak-ng-wasm.'
          : 'Pass as dataPath the directory that holds espeak-ng-data/, or leave dataPath out to use the bundled data.'),
    )
  }
  const messages: string[] = []
  const keep = (line: string) => {
    messages.push(line)
    if (messages.length > keptMessages) messages.shift()
  }
  let module: EspeakNgWasmModule
  try {
    module = await instantiate(options.wasmModule ?? (await compileWasm()), keep)
  } catch (cause) {
    throw new EspeakNgError(
      'init-failed',
      `cannot start espeak-ng's WebAssembly: ${(cause as Error)?.message ?? String(cause)}. ` +
        'If you passed wasmModule, pass the one compileEspeakNg() returns; otherwise reinstall @taurobot/espeak-ng-wasm.',
      { messages: [...messages], cause },
    )
  }
  const status = withString(module, dataPath, (pointer) => module._init(pointer))
  if (status !== 0) {
    throw new EspeakNgError(
      'init-failed',
      `espeak-ng cannot start with the data in "${join(dataPath, 'espeak-ng-data')}": ${describeStatus(status)}. ` +
        'Reinstall @taurobot/espeak-ng-wasm, or check the files in dataPath.',
      { status, messages: [...messages] },
    )
  }
  return new Engine(module, messages, new VoiceCatalog(join(dataPath, 'espeak-ng-data')))
}

/** Copies a string into the module's memory as UTF-8 for one call. */
function withString<T>(module: EspeakNgWasmModule, text: string, use: (pointer: number) => T): T {
  const size = module.lengthBytesUTF8(text) + 1
  const pointer = module._malloc(size)
  if (pointer === 0)
    throw new RangeError(`[@taurobot/espeak-ng-wasm] out of memory for ${size} bytes of text`)
  try {
    module.stringToUTF8(text, pointer, size)
    return use(pointer)
  } finally {
    module._free(pointer)
  }
}

class Engine implements EspeakNg {
  readonly sampleRate: number
  readonly #module: EspeakNgWasmModule
  readonly #messages: string[]
  readonly #voices: VoiceCatalog
  /** espeak-ng right after start-up, before any voice: each voice is loaded from here. */
  readonly #started: MemorySnapshot
  /**
   * espeak-ng with the current voice loaded and nothing spoken yet: each synthesis starts here.
   * Undefined until a voice is loaded.
   */
  #ready: MemorySnapshot | undefined
  #parameters: EspeakNgParameters | undefined

  constructor(module: EspeakNgWasmModule, messages: string[], voices: VoiceCatalog) {
    this.#module = module
    this.#messages = messages
    this.#voices = voices
    this.sampleRate = module._get_sample_rate()
    this.#started = new MemorySnapshot(this.#memory)
  }

  /** The module's linear memory, read again each time: it is replaced when it grows. */
  get #memory(): ArrayBuffer {
    return this.#module.HEAP16.buffer as ArrayBuffer
  }

  setVoice(name: string): void {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(
        `[@taurobot/espeak-ng-wasm] setVoice() needs a voice name such as "it", got ${String(name)}`,
      )
    }
    this.#load(this.#voices.resolve(name), name)
  }

  /**
   * Loads `path` (a name already checked against the data, as its path) on a fresh espeak-ng and
   * keeps that state; `name` is what the caller asked for.
   */
  #load(path: string, name: string): void {
    this.#messages.length = 0
    this.#started.restoreInto(this.#memory)
    const status = withString(this.#module, path, (pointer) => this.#module._set_voice(pointer))
    if (status === 0) {
      if (this.#ready === undefined) this.#ready = new MemorySnapshot(this.#memory)
      else this.#ready.capture(this.#memory)
      return
    }
    const messages = [...this.#messages]
    ;(this.#ready ?? this.#started).restoreInto(this.#memory)
    throw new EspeakNgError(
      'unknown-voice',
      `espeak-ng has no voice "${name}" (${describeStatus(status)}). Pick one espeak-ng knows: a language ` +
        'such as "it" or "en-us", optionally with a variant such as "it+Marco".',
      { status, messages },
    )
  }

  setParameters(parameters: EspeakNgParameters): void {
    const checked = validateParameters(parameters)
    this.#apply(checked)
    this.#parameters = checked
  }

  #apply({ rate, volume, pitch }: EspeakNgParameters): void {
    const status = this.#module._set_params(rate, volume, pitch)
    if (status !== 0) {
      throw new EspeakNgError(
        'synthesis-failed',
        `espeak-ng refused the parameters: ${describeStatus(status)}.`,
        {
          status,
          messages: [...this.#messages],
        },
      )
    }
  }

  synthesize(text: string, options: EspeakNgSynthesizeOptions = {}): EspeakNgSynthesis {
    if (typeof text !== 'string') {
      throw new TypeError(`[@taurobot/espeak-ng-wasm] synthesize() needs a string, got ${typeof text}`)
    }
    if (text === '') return { samples: new Int16Array(0), stopped: false }
    const module = this.#module
    // espeak-ng would load its default voice on every synthesis until one is set: load it once, on
    // the first synthesis rather than at start-up, where the caller's setVoice() would replace it.
    // (A dataPath of a few languages may lack it: espeak-ng then fails on synthesis, as it did.)
    if (this.#ready === undefined && this.#voices.hasLanguage('en')) {
      this.#load(this.#voices.resolve('en'), 'en')
    }
    this.#messages.length = 0
    // Same text, voice and parameters, same samples: every synthesis starts from the state the
    // voice was loaded in, not from where the previous one left espeak-ng.
    ;(this.#ready ?? this.#started).restoreInto(this.#memory)
    if (this.#parameters !== undefined) this.#apply(this.#parameters)
    const { shouldStop } = options
    let thrown: { error: unknown } | undefined
    // An exception must not unwind through espeak-ng's C frames: catch it, stop, rethrow after.
    module.shouldStop =
      shouldStop === undefined
        ? undefined
        : () => {
            try {
              return shouldStop() === true
            } catch (error) {
              thrown = { error }
              return true
            }
          }
    let status: number
    try {
      status = withString(module, text, (pointer) => module._synth(pointer))
    } finally {
      module.shouldStop = undefined
    }
    if (thrown !== undefined) throw thrown.error
    if (status !== 0) {
      throw new EspeakNgError(
        'synthesis-failed',
        `espeak-ng could not speak the text (${text.length} characters): ${describeStatus(status)}. ` +
          'Check the text and the voice; the engine can still be used.',
        { status, messages: [...this.#messages] },
      )
    }
    const pointer = module._get_samples_ptr()
    const length = module._get_samples_length()
    // HEAP16 is re-read here: the memory may have grown (and been replaced) during the synthesis.
    const samples =
      length === 0 ? new Int16Array(0) : module.HEAP16.slice(pointer >> 1, (pointer >> 1) + length)
    return { samples, stopped: module._was_stopped() === 1 }
  }
}
