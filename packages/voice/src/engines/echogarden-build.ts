import { closeSync, openSync, readSync } from 'node:fs'
import type { BuildLoad, EspeakBuild } from './espeak-build.js'
import { importIfInstalled, unknownVoiceError } from './espeak-build.js'

/** The optional GPL-3.0 package this build comes from: espeak-ng compiled to JavaScript by wasm2js. */
export const echogardenPackage = '@echogarden/espeak-ng-emscripten'

// The subset of the Emscripten module's WebIDL binding that is driven here.
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

/** Loads the wasm2js build, or reports the package as missing. */
export async function loadEchogardenBuild(): Promise<BuildLoad> {
  const imported = await importIfInstalled(echogardenPackage)
  if ('missing' in imported) return imported
  const factory = (imported.module as { default: EspeakFactory }).default
  // espeak-ng reports problems through printErr; keep them for error messages instead of letting
  // them reach the process's stderr.
  const messages: string[] = []
  const keep = (line: string) => {
    messages.push(line)
    if (messages.length > 20) messages.shift()
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
    if (fs === undefined) throw new Error(`${echogardenPackage} exposes no file system to load its data into`)
    for (const data of packages) data.attach(fs)
  }
  const worker = new module.eSpeakNGWorker()
  const build: EspeakBuild = {
    sampleRate: worker.get_samplerate(),
    // JavaScript: V8 needs several runs before its optimising compiler has caught up.
    warmupRuns: 8,
    setVoice(language, voice) {
      messages.length = 0
      const name = voice === undefined ? '' : `${language}+${voice}`
      const status = worker.set_voice(name, name === '' ? language : '')
      if (status !== 0 || messages.length > 0) throw unknownVoiceError(language, voice, messages, status)
    },
    setParameters(rate, volume, pitch) {
      worker.set_rate(rate)
      worker.set_volume(volume)
      worker.set_pitch(pitch)
    },
    synthesize(text, shouldStop) {
      const chunks: Int16Array[] = []
      let length = 0
      let stopped = false
      worker.synthesize(text, (samples) => {
        if (samples !== undefined && samples.length > 0) {
          chunks.push(samples)
          length += samples.length
        }
        // Returning true asks espeak-ng to stop: the cooperative cancellation point.
        stopped = shouldStop()
        return stopped
      })
      const out = new Int16Array(length)
      let offset = 0
      for (const chunk of chunks) {
        out.set(chunk, offset)
        offset += chunk.length
      }
      return { samples: out, stopped }
    },
  }
  return { build }
}
