// Latency of one fresh process: construction → first audio (cold, or after warmup()), then, in the
// "full" mode, warm per-sentence latency through the pool and the Ogg/Opus encode cost measured on
// this thread with the package's worker function.
import { PerInstanceVoiceSystem, voiceTask, voiceWorkerPath } from '../baselines/per-instance-voice.js'
import { italianSentences } from './italian.js'

export type LatencyMode = 'ours-full' | 'ours-cold' | 'ours-warmup' | 'per-instance-cold'

/** The package's built-in engines: WASM (the default) and the system espeak-ng binary. */
export type LatencyEngine = 'espeak-ng-wasm' | 'espeak-ng'

export interface LatencyReport {
  mode: LatencyMode
  engine: LatencyEngine
  firstAudioMs: number
  /** For ours-warmup: how long warmup() took; first audio is then timed from its end. */
  warmupMs?: number
  warmOggMs?: number[]
  warmWavMs?: number[]
  /** Per sentence, same text: Ogg minus WAV time of the worker function on this thread. */
  encodeMs?: number[]
  /** Per sentence: WAV time of the worker function on this thread, without any pool. */
  localWavMs?: number[]
  speechMs?: number[]
}

// The worker entry is internal: its task shape belongs to the pool. The bench calls it through
// this minimal view (the specifier is a variable so the typecheck does not bind to that shape).
interface WorkerModule {
  runTask(task: unknown): Promise<{ ok: boolean; durationMs: number }>
}
const VOICE_WORKER: string = '@taurobot/voice/worker'

const [mode, countText, engineArg] = process.argv.slice(2) as [LatencyMode, string, LatencyEngine?]
const engine: LatencyEngine = engineArg ?? 'espeak-ng-wasm'
const count = Number(countText)
const sentences = italianSentences(100)
const first = sentences[1] as string

let report: LatencyReport
if (mode === 'per-instance-cold') {
  const t0 = performance.now()
  const voice = new PerInstanceVoiceSystem(voiceWorkerPath())
  await voice.synthesize(first)
  report = { mode, engine, firstAudioMs: performance.now() - t0 }
} else {
  const { VoiceSystem, voicePool } = await import('@taurobot/voice')
  let t0 = performance.now()
  const voice = new VoiceSystem({ language: 'it', rate: 150, volume: 1.0, engine })
  let warmupMs: number | undefined
  if (mode === 'ours-warmup') {
    if (typeof voice.warmup !== 'function') throw new Error('VoiceSystem has no warmup()')
    await voice.warmup()
    warmupMs = performance.now() - t0
    t0 = performance.now()
  }
  await voice.synthesize(first, { format: 'ogg' })
  report = { mode, engine, firstAudioMs: performance.now() - t0 }
  if (warmupMs !== undefined) report.warmupMs = warmupMs
  if (mode === 'ours-full') {
    // Warm every pool thread's engine (WASM tier-up) before timing.
    const warm = sentences.slice(2, 2 + Math.min(20, count * 2))
    await Promise.all(warm.map((s) => voice.synthesize(s, { format: 'ogg' })))
    for (const s of warm) await voice.synthesize(s, { format: 'wav' })
    const ogg: number[] = []
    const wav: number[] = []
    for (const s of sentences.slice(30, 30 + count)) {
      let t = performance.now()
      await voice.synthesize(s, { format: 'ogg' })
      ogg.push(performance.now() - t)
      t = performance.now()
      await voice.synthesize(s, { format: 'wav' })
      wav.push(performance.now() - t)
    }
    await voicePool.close()
    // The encoder on its own: the worker function run here, same text as WAV and as Ogg.
    const { runTask } = (await import(VOICE_WORKER)) as WorkerModule
    for (const s of warm) {
      await runTask({ ...voiceTask(s, 'wav'), engine })
      await runTask({ ...voiceTask(s, 'ogg'), engine })
    }
    const encodeMs: number[] = []
    const localWavMs: number[] = []
    const speechMs: number[] = []
    for (const s of sentences.slice(30, 30 + count)) {
      let t = performance.now()
      const w = await runTask({ ...voiceTask(s, 'wav'), engine })
      const wavMs = performance.now() - t
      t = performance.now()
      await runTask({ ...voiceTask(s, 'ogg'), engine })
      encodeMs.push(performance.now() - t - wavMs)
      localWavMs.push(wavMs)
      speechMs.push(w.durationMs)
    }
    Object.assign(report, { warmOggMs: ogg, warmWavMs: wav, encodeMs, localWavMs, speechMs })
  }
}
process.stdout.write(`LATENCY_REPORT ${JSON.stringify(report)}\n`)
process.exit(0)
