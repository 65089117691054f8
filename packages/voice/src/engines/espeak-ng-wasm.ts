import { closeSync, openSync, readSync } from 'node:fs'
import type { Engine, EngineAudio, EngineCancellation, EngineSpeechOptions } from '../engine.js'
import { EngineCancelledError } from '../engine.js'
import { VoiceError } from '../errors.js'
import { ESPEAK_RATE_RANGE } from '../espeak-voices.js'

const packageName = '@echogarden/espeak-ng-emscripten'

// The subset of the Emscripten module's WebIDL binding that this engine drives.
interface EspeakWorker {
  set_voice(name: string, language: string): number
  set_rate(wordsPerMinute: number): void
  set_volume(amplitude: number): void
  set_pitch(pitch: number): void
  get_samplerate(): number
  synthesize(text: string, onChunk: (samples: Int16Array | undefined, events: unknown[]) => boolean): void
}

// The parts of Emscripten's in-memory file system used to load espeak-ng's data on demand.
interface EmscriptenFs {
  open(path: unknown, flags: unknown, mode?: unknown): unknown
  lookupPath(path: string): { node: { contents?: unknown } | null }
}

interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker
  FS?: EmscriptenFs
}

type EspeakFactory = (options: {
  print: (line: string) => void
  printErr: (line: string) => void
  getPreloadedPackage: (path: string, size: number) => ArrayBuffer
}) => Promise<EspeakModule>

/**
 * espeak-ng's data package (24 MB, every language's dictionary) would otherwise be read whole into
 * each thread. The Emscripten glue accepts a pre-loaded buffer and makes every file a view into it,
 * so a zero-filled buffer (its pages cost no memory until written) is handed over instead, and each
 * file's bytes are read from disk when espeak-ng first opens it: an Italian voice touches about
 * 1 MB of the 24.
 */
class LazyDataPackage {
  readonly buffer: ArrayBuffer
  readonly #path: string
  readonly #loaded = new Set<number>()

  constructor(path: string, size: number) {
    this.#path = path
    this.buffer = new ArrayBuffer(size)
  }

  /** Makes `fs.open` fill a data file from disk before espeak-ng reads it. */
  attach(fs: EmscriptenFs): void {
    const open = fs.open.bind(fs)
    fs.open = (path, flags, mode) => {
      if (typeof path === 'string') this.#fill(fs, path)
      return open(path, flags, mode)
    }
  }

  #fill(fs: EmscriptenFs, path: string): void {
    let contents: unknown
    try {
      contents = fs.lookupPath(path).node?.contents
    } catch {
      return // a missing file: let open() report it
    }
    if (!(contents instanceof Uint8Array) || contents.buffer !== this.buffer) return
    if (contents.length === 0 || this.#loaded.has(contents.byteOffset)) return
    const fd = openSync(this.#path, 'r')
    try {
      let done = 0
      while (done < contents.length) {
        const read = readSync(fd, contents, done, contents.length - done, contents.byteOffset + done)
        if (read === 0) throw new Error(`${this.#path} ended before byte ${contents.byteOffset + done}`)
        done += read
      }
    } finally {
      closeSync(fd)
    }
    this.#loaded.add(contents.byteOffset)
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}

/** espeak-ng compiled to JavaScript/WebAssembly, from the optional GPL-3.0 peer dependency. */
export class EspeakNgWasmEngine implements Engine {
  #worker: EspeakWorker | undefined
  #messages: string[] = []
  #voiceKey = ''

  async init(): Promise<void> {
    let factory: EspeakFactory
    try {
      factory = (await import(packageName)).default as EspeakFactory
    } catch (cause) {
      if (!isModuleNotFound(cause)) throw cause
      throw new VoiceError(
        'engine-missing',
        `the default engine needs the optional package ${packageName} (GPL-3.0), which is not installed. ` +
          `Run \`npm install ${packageName}\`, or pick the system binary with { engine: 'espeak-ng' }.`,
        { cause, details: { engine: 'espeak-ng-wasm', package: packageName } },
      )
    }
    // espeak-ng reports problems through printErr; keep them for error messages instead of letting
    // them reach the process's stderr.
    const keep = (line: string) => {
      this.#messages.push(line)
      if (this.#messages.length > 20) this.#messages.shift()
    }
    const packages: LazyDataPackage[] = []
    const module = await factory({
      print: keep,
      printErr: keep,
      getPreloadedPackage: (path, size) => {
        const data = new LazyDataPackage(path, size)
        packages.push(data)
        return data.buffer
      },
    })
    if (packages.length > 0) {
      const fs = module.FS
      if (fs === undefined) throw new Error(`${packageName} exposes no file system to load its data into`)
      for (const data of packages) data.attach(fs)
    }
    this.#worker = new module.eSpeakNGWorker()
  }

  synthesize(text: string, options: EngineSpeechOptions, cancellation: EngineCancellation): EngineAudio {
    const worker = this.#worker
    if (worker === undefined) throw new Error('espeak-ng-wasm: synthesize() called before init()')
    this.#messages.length = 0
    const voiceKey = `${options.language}+${options.voice ?? ''}`
    if (voiceKey !== this.#voiceKey) {
      const name = options.voice === undefined ? '' : `${options.language}+${options.voice}`
      const status = worker.set_voice(name, name === '' ? options.language : '')
      if (status !== 0 || this.#messages.length > 0) {
        this.#voiceKey = ''
        throw new VoiceError(
          'engine-failed',
          `espeak-ng cannot use language "${options.language}"${options.voice === undefined ? '' : ` with voice "${options.voice}"`}` +
            `${this.#messages.length > 0 ? ` (${this.#messages.join('; ')})` : ''}. Pick another language or voice.`,
          { details: { language: options.language, voice: options.voice, status } },
        )
      }
      this.#voiceKey = voiceKey
    }
    worker.set_rate(
      Math.round(Math.min(ESPEAK_RATE_RANGE.max, Math.max(ESPEAK_RATE_RANGE.min, options.rate))),
    )
    worker.set_volume(Math.round(options.volume * 100))
    worker.set_pitch(Math.round(options.pitch * 0.99))

    const chunks: Int16Array[] = []
    let length = 0
    worker.synthesize(text, (samples) => {
      if (samples !== undefined && samples.length > 0) {
        chunks.push(samples)
        length += samples.length
      }
      // Returning true asks espeak-ng to stop: the cooperative cancellation point.
      return cancellation.cancelled
    })
    if (cancellation.cancelled) throw new EngineCancelledError()
    const out = new Int16Array(length)
    let offset = 0
    for (const chunk of chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return { samples: out, sampleRate: worker.get_samplerate() }
  }
}

/** Creates the WASM espeak-ng engine (the default). */
export function createEngine(): Engine {
  return new EspeakNgWasmEngine()
}
