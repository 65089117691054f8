import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { VOICE_ENTRY } from './lib/contracts.js'
import { row } from './lib/result.js'
import { median, spreadText, summarize } from './lib/stats.js'
import type { LatencyMode, LatencyReport } from './lib/voice-latency-child.js'
import { bundleChild, runPlainChild } from './lib/voice-spawn.js'

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: first audio, warm latency, Ogg/Opus encode',
  claim:
    'First audio ≤ 400 ms after constructing a VoiceSystem (warmup() offered), warm synthesis ≤ 10 ms per sentence, Ogg/Opus encoding ≤ 50 ms per 4 s of speech.',
  requires: [
    { module: VOICE_ENTRY, export: 'VoiceSystem' },
    { module: '@taurobot/voice/worker', export: 'runTask' },
  ],
  notCovered: [
    'Sending the audio (Telegram upload) and writing files (textToSpeech).',
    'Other engines than the default espeak-ng WASM engine.',
  ],
  async run(ctx) {
    const reps = ctx.quick ? 1 : 3
    const count = ctx.quick ? 6 : 30
    const script = await bundleChild('voice-latency-child')
    const go = async (mode: LatencyMode) => {
      const run = await runPlainChild(script, [mode, String(count)], 'LATENCY_REPORT', 5_000)
      return JSON.parse(run.lines.LATENCY_REPORT as string) as LatencyReport
    }
    const cold: Record<'ours' | 'per-instance' | 'warmup', number[]> = {
      ours: [],
      'per-instance': [],
      warmup: [],
    }
    const warmupMs: number[] = []
    const full = await go('ours-full')
    cold.ours.push(full.firstAudioMs)
    for (let i = 0; i < reps; i++) {
      if (i > 0) cold.ours.push((await go('ours-cold')).firstAudioMs)
      cold['per-instance'].push((await go('per-instance-cold')).firstAudioMs)
      const w = await go('ours-warmup')
      cold.warmup.push(w.firstAudioMs)
      if (w.warmupMs !== undefined) warmupMs.push(w.warmupMs)
    }
    const ogg = summarize(full.warmOggMs ?? [])
    const wav = summarize(full.warmWavMs ?? [])
    const encode = full.encodeMs ?? []
    const speech = full.speechMs ?? []
    const per4s = encode.map((e, i) => (e / (speech[i] ?? Number.NaN)) * 4000)
    const localWav = full.localWavMs ?? []
    // The same sentences in the same order, so each pool time has its speech length.
    const wavPerSecond = (full.warmWavMs ?? []).map((w, i) => (w / (speech[i] ?? Number.NaN)) * 1000)
    const rtf = encode.map((e, i) => e / (speech[i] ?? Number.NaN))
    ctx.log(`cold ${JSON.stringify(cold)} warmup ${JSON.stringify(warmupMs)}`)
    return {
      rows: [
        row({
          operation: 'first audio after construction, cold process',
          unit: 'ms',
          better: 'lower',
          before: median(cold['per-instance']),
          after: median(cold.ours),
          spread: spreadText(cold.ours, 'processes'),
          target: { op: '<=', value: 400 },
        }),
        row({
          operation: 'warmup() after construction',
          unit: 'ms',
          better: 'lower',
          after: median(warmupMs),
        }),
        row({
          operation: 'first audio after warmup() resolved',
          unit: 'ms',
          better: 'lower',
          after: median(cold.warmup),
          target: { op: '<=', value: 400 },
        }),
        row({
          operation: 'warm synthesis per sentence, WAV, p50',
          unit: 'ms',
          better: 'lower',
          after: wav.median,
          spread: spreadText(full.warmWavMs ?? [], 'sentences'),
          target: { op: '<=', value: 10 },
        }),
        row({
          operation: 'warm synthesis per sentence, WAV, engine alone (worker function, no pool), p50',
          unit: 'ms',
          better: 'lower',
          after: median(localWav),
          spread: spreadText(localWav, 'sentences'),
        }),
        row({
          operation: 'warm synthesis per second of speech, WAV, p50',
          unit: 'ms',
          better: 'lower',
          after: median(wavPerSecond),
        }),
        row({
          operation: 'warm synthesis per sentence, WAV, p99',
          unit: 'ms',
          better: 'lower',
          after: wav.p99,
        }),
        row({
          operation: 'warm synthesis per sentence, Ogg/Opus, p50',
          unit: 'ms',
          better: 'lower',
          after: ogg.median,
          spread: spreadText(full.warmOggMs ?? [], 'sentences'),
        }),
        row({
          operation: 'warm synthesis per sentence, Ogg/Opus, p99',
          unit: 'ms',
          better: 'lower',
          after: ogg.p99,
        }),
        row({
          operation: 'Ogg/Opus encode per 4 s of speech',
          unit: 'ms',
          better: 'lower',
          after: median(per4s),
          spread: spreadText(per4s, 'sentences'),
          target: { op: '<=', value: 50 },
        }),
        row({ operation: 'Ogg/Opus encode realtime factor', unit: '×', better: 'lower', after: median(rtf) }),
      ],
      notes: [
        `Each figure from fresh processes: cold first audio is the median of ${cold.ours.length} processes (the naive per-instance pool: ${cold['per-instance'].length}); it includes starting a worker thread and loading the engine there. Warm latency: ${count} Italian sentences one at a time through VoiceSystem.synthesize after warming every pool thread, Ogg and WAV alternating. Encode: the package’s worker function on one thread, the same sentence as WAV and as Ogg/Opus, the difference per sentence. The sentences are a bot’s replies of ${Math.round(median(speech))} ms of speech (median); the engine’s time grows with the length of the speech, hence the per-second row. Children run as plain JavaScript under node (bundled with esbuild), not under tsx, whose loader every worker thread would also start.`,
      ],
    }
  },
})
