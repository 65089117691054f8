import { VoiceError } from '../errors.js'

/**
 * One build of espeak-ng loaded on this thread, in espeak-ng's own units. The WASM engine drives
 * whichever build is installed through this, so both speak with the same voice and options.
 */
export interface EspeakBuild {
  /** Samples per second of what `synthesize` returns. */
  readonly sampleRate: number
  /** Runs of `warmup()` the build needs before it is at full speed (see `Engine.warmupRuns`). */
  readonly warmupRuns: number
  /** Selects the language's voice, or one of its variants; throws {@link unknownVoiceError} if unknown. */
  setVoice(language: string, voice: string | undefined): void
  /** rate in words per minute (80..450), volume 0..200 (100 normal), pitch 0..99 (50 normal). */
  setParameters(rate: number, volume: number, pitch: number): void
  /** Synthesizes `text`; stops early once `shouldStop` returns true, checked between chunks. */
  synthesize(text: string, shouldStop: () => boolean): { samples: Int16Array; stopped: boolean }
}

/** What loading a build gives: the build, or the import error of a package that is not installed. */
export type BuildLoad = { build: EspeakBuild } | { missing: unknown }

/**
 * Imports an optional package: `{ missing }` when it is not installed. Only the import itself can
 * mean "not installed"; a failure while the installed package loads its engine is an error.
 */
export async function importIfInstalled(name: string): Promise<{ module: unknown } | { missing: unknown }> {
  try {
    return { module: await import(name) }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { missing: error }
    throw error
  }
}

/** The `VoiceError` of a voice or language that the loaded espeak-ng data does not have. */
export function unknownVoiceError(
  language: string,
  voice: string | undefined,
  messages: readonly string[],
  status: unknown,
): VoiceError {
  return new VoiceError(
    'engine-failed',
    `espeak-ng cannot use language "${language}"${voice === undefined ? '' : ` with voice "${voice}"`}` +
      `${messages.length > 0 ? ` (${messages.join('; ')})` : ''}. Pick another language or voice.`,
    { details: { language, voice, status } },
  )
}
