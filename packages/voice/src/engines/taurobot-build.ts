import type { BuildLoad, EspeakBuild } from './espeak-build.js'
import { importIfInstalled, unknownVoiceError } from './espeak-build.js'

/** The optional GPL-3.0-or-later package this build comes from: espeak-ng compiled to WebAssembly. */
export const taurobotPackage = '@taurobot/espeak-ng-wasm'

// The part of the package's API driven here (its own types are not a build-time dependency).
interface EspeakNg {
  readonly sampleRate: number
  setVoice(name: string): void
  setParameters(parameters: { rate: number; volume: number; pitch: number }): void
  synthesize(
    text: string,
    options?: { shouldStop?: () => boolean },
  ): { samples: Int16Array; stopped: boolean }
}

interface EspeakNgModule {
  loadEspeakNg(): Promise<EspeakNg>
}

/** Loads the WebAssembly build, or reports the package as missing. */
export async function loadTaurobotBuild(): Promise<BuildLoad> {
  const imported = await importIfInstalled(taurobotPackage)
  if ('missing' in imported) return imported
  const { loadEspeakNg } = imported.module as EspeakNgModule
  const espeak = await loadEspeakNg()
  const build: EspeakBuild = {
    sampleRate: espeak.sampleRate,
    // WebAssembly runs at near full speed from its first call; one more run lets V8's optimising
    // tier replace the baseline code.
    warmupRuns: 2,
    setVoice(language, voice) {
      try {
        espeak.setVoice(voice === undefined ? language : `${language}+${voice}`)
      } catch (error) {
        throw unknownVoiceError(
          language,
          voice,
          [(error as Error).message],
          (error as { status?: unknown }).status,
        )
      }
    },
    setParameters(rate, volume, pitch) {
      espeak.setParameters({ rate, volume, pitch })
    },
    synthesize(text, shouldStop) {
      return espeak.synthesize(text, { shouldStop })
    },
  }
  return { build }
}
