import { Piscina } from 'piscina'

/** The task format of @taurobot/voice's worker entry (`@taurobot/voice/worker`, export `runTask`). */
export interface VoiceWorkerTask {
  kind: 'synthesize'
  engine: string
  text: string
  options: { language: string; rate: number; volume: number; voice: string | undefined; pitch: number }
  format: 'ogg' | 'wav'
  cancel: Int32Array
}

export interface VoiceWorkerResult {
  ok: boolean
  data?: Uint8Array
  durationMs?: number
  error?: { message: string }
}

/** Where the package's worker entry is, so baseline pools run exactly the same engine and encoder. */
export function voiceWorkerPath(): string {
  return new URL(import.meta.resolve('@taurobot/voice/worker')).pathname
}

export function voiceTask(text: string, format: 'ogg' | 'wav' = 'ogg'): VoiceWorkerTask {
  return {
    kind: 'synthesize',
    engine: 'espeak-ng-wasm',
    text,
    options: { language: 'it', rate: 150, volume: 1, voice: undefined, pitch: 50 },
    format,
    cancel: new Int32Array(new SharedArrayBuffer(4)),
  }
}

/**
 * The Python bot's VoiceSystem ported naively: every instance makes its own executor, here a
 * piscina pool with piscina's defaults (minThreads = cores/2, maxThreads = 1.5 × cores), and never
 * shuts it down. The work on each thread is the package's own worker, so only the pools differ.
 */
export class PerInstanceVoiceSystem {
  readonly pool: Piscina

  constructor(workerPath: string) {
    this.pool = new Piscina({ filename: workerPath, name: 'runTask' })
  }

  async synthesize(text: string): Promise<VoiceWorkerResult> {
    const result = (await this.pool.run(voiceTask(text))) as VoiceWorkerResult
    if (!result.ok) throw new Error(result.error?.message ?? 'synthesis failed')
    return result
  }
}

/** Plain piscina with its defaults, shared by every instance: what a user would write by hand. */
export class SharedPiscinaVoiceSystem {
  constructor(readonly pool: Piscina) {}

  async synthesize(text: string): Promise<VoiceWorkerResult> {
    const result = (await this.pool.run(voiceTask(text))) as VoiceWorkerResult
    if (!result.ok) throw new Error(result.error?.message ?? 'synthesis failed')
    return result
  }
}
