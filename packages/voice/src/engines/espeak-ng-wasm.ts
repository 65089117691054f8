import type { Engine, EngineAudio, EngineCancellation, EngineSpeechOptions } from '../engine.js'
import { EngineCancelledError } from '../engine.js'
import { VoiceError } from '../errors.js'
import { ESPEAK_RATE_RANGE } from '../espeak-voices.js'
import { echogardenPackage, loadEchogardenBuild } from './echogarden-build.js'
import type { BuildLoad, EspeakBuild } from './espeak-build.js'
import { espeakText } from './espeak-text.js'
import { loadTaurobotBuild, taurobotPackage } from './taurobot-build.js'

/** The packages that provide espeak-ng for this engine, tried in this order. */
export type EspeakPackage = typeof taurobotPackage | typeof echogardenPackage

const loaders: Record<EspeakPackage, () => Promise<BuildLoad>> = {
  [taurobotPackage]: loadTaurobotBuild,
  [echogardenPackage]: loadEchogardenBuild,
}

/** Options of {@link EspeakNgWasmEngine}. */
export interface EspeakNgWasmEngineOptions {
  /**
   * Packages to load espeak-ng from, first installed one wins. The WebAssembly build starts and
   * speaks several times faster; the wasm2js build is kept for installs that already have it.
   * @default ['@taurobot/espeak-ng-wasm', '@echogarden/espeak-ng-emscripten']
   */
  packages?: readonly EspeakPackage[]
}

/** espeak-ng compiled for JavaScript runtimes, from an optional GPL peer dependency. */
export class EspeakNgWasmEngine implements Engine {
  readonly #packages: readonly EspeakPackage[]
  #build: EspeakBuild | undefined
  #from: EspeakPackage | undefined
  #voiceKey = ''

  constructor(options: EspeakNgWasmEngineOptions = {}) {
    this.#packages = options.packages ?? [taurobotPackage, echogardenPackage]
  }

  /** Runs of `warmup()` the loaded build needs; read after `init()`. */
  get warmupRuns(): number {
    return this.#build?.warmupRuns ?? 8
  }

  /** Which package the engine loaded espeak-ng from; undefined before `init()`. */
  get loadedFrom(): EspeakPackage | undefined {
    return this.#from
  }

  async init(): Promise<void> {
    let missing: unknown
    for (const name of this.#packages) {
      // A package that is installed but fails to load is an error, not a reason to try the next.
      const loaded = await loaders[name]()
      if ('build' in loaded) {
        this.#build = loaded.build
        this.#from = name
        return
      }
      missing ??= loaded.missing
    }
    throw new VoiceError(
      'engine-missing',
      `the default engine needs the optional package ${taurobotPackage} (GPL-3.0-or-later), which is not installed. ` +
        `Run \`npm install ${taurobotPackage}\`, or pick the system binary with { engine: 'espeak-ng' }.`,
      { cause: missing, details: { engine: 'espeak-ng-wasm', packages: this.#packages } },
    )
  }

  synthesize(text: string, options: EngineSpeechOptions, cancellation: EngineCancellation): EngineAudio {
    const build = this.#build
    if (build === undefined) throw new Error('espeak-ng-wasm: synthesize() called before init()')
    const voiceKey = `${options.language}+${options.voice ?? ''}`
    if (voiceKey !== this.#voiceKey) {
      this.#voiceKey = ''
      build.setVoice(options.language, options.voice)
      this.#voiceKey = voiceKey
    }
    build.setParameters(
      Math.round(Math.min(ESPEAK_RATE_RANGE.max, Math.max(ESPEAK_RATE_RANGE.min, options.rate))),
      Math.round(options.volume * 100),
      Math.round(options.pitch * 0.99),
    )
    const { samples, stopped } = build.synthesize(espeakText(text), () => cancellation.cancelled)
    if (stopped || cancellation.cancelled) throw new EngineCancelledError()
    return { samples, sampleRate: build.sampleRate }
  }
}

/** Creates the WASM espeak-ng engine (the default). */
export function createEngine(): Engine {
  return new EspeakNgWasmEngine()
}
