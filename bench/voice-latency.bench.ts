import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { median, spreadText, summarize } from './lib/stats.js'
import type { LatencyEngine, LatencyMode, LatencyReport } from './lib/voice-latency-child.js'
import { bundleChild, installWithWasm2jsOnly, runPlainChild } from './lib/voice-spawn.js'

/**
 * The engines compared: the two built-in ones, and the default engine in an install that has only
 * the wasm2js espeak-ng package (@echogarden/espeak-ng-emscripten), as before the WebAssembly build.
 */
type BenchEngine = LatencyEngine | 'wasm2js'

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: first audio, warm latency, Ogg/Opus encode',
  claim:
    'First audio ≤ 400 ms after constructing a VoiceSystem (warmup() offered), warm synthesis ≤ 10 ms per sentence, Ogg/Opus encoding ≤ 50 ms per 4 s of speech.',
  notCovered: [
    'Sending the audio (Telegram upload) and writing files (textToSpeech).',
    'Custom engines; the system espeak-ng binary engine is measured when espeak-ng is installed.',
  ],
  async run(ctx) {
    const reps = ctx.quick ? 1 : 3
    const count = ctx.quick ? 6 : 30
    const script = await bundleChild('voice-latency-child')
    const wasm2jsScript = installWithWasm2jsOnly(script)
    const binary = spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' }).status === 0
    const engines: BenchEngine[] = ['espeak-ng-wasm', 'wasm2js', ...(binary ? (['espeak-ng'] as const) : [])]
    const go = async (mode: LatencyMode, engine: BenchEngine) => {
      const run =
        engine === 'wasm2js'
          ? await runPlainChild(
              wasm2jsScript,
              [mode, String(count), 'espeak-ng-wasm'],
              'LATENCY_REPORT',
              5_000,
            )
          : await runPlainChild(script, [mode, String(count), engine], 'LATENCY_REPORT', 5_000)
      return JSON.parse(run.lines.LATENCY_REPORT as string) as LatencyReport
    }
    interface PerEngine {
      cold: number[]
      warmup: number[]
      warmupMs: number[]
      full: LatencyReport | undefined
    }
    const by = new Map<BenchEngine, PerEngine>(
      engines.map((e) => [e, { cold: [], warmup: [], warmupMs: [], full: undefined }]),
    )
    const perInstance: number[] = []
    // Engines interleaved in every repetition, so a burst of load on the shared machine hits both.
    for (let i = 0; i < reps; i++) {
      for (const engine of engines) {
        const m = by.get(engine) as PerEngine
        if (i === 0) {
          m.full = await go('ours-full', engine)
          m.cold.push(m.full.firstAudioMs)
        } else m.cold.push((await go('ours-cold', engine)).firstAudioMs)
        const w = await go('ours-warmup', engine)
        m.warmup.push(w.firstAudioMs)
        if (w.warmupMs !== undefined) m.warmupMs.push(w.warmupMs)
      }
      perInstance.push((await go('per-instance-cold', 'espeak-ng-wasm')).firstAudioMs)
    }
    const wasm = by.get('espeak-ng-wasm') as PerEngine
    const full = wasm.full as LatencyReport
    const ogg = summarize(full.warmOggMs ?? [])
    const wav = summarize(full.warmWavMs ?? [])
    const encode = full.encodeMs ?? []
    const speech = full.speechMs ?? []
    const per4s = encode.map((e, i) => (e / (speech[i] ?? Number.NaN)) * 4000)
    const localWav = full.localWavMs ?? []
    // The same sentences in the same order, so each pool time has its speech length.
    const perSecond = (r: LatencyReport) =>
      (r.warmWavMs ?? []).map((w, i) => (w / (r.speechMs?.[i] ?? Number.NaN)) * 1000)
    const rtf = encode.map((e, i) => e / (speech[i] ?? Number.NaN))
    ctx.log(
      `cold ${JSON.stringify(Object.fromEntries([...by].map(([e, m]) => [e, m.cold])))} per-instance ${JSON.stringify(perInstance)}`,
    )
    ctx.log(
      `after warmup ${JSON.stringify(Object.fromEntries([...by].map(([e, m]) => [e, m.warmup])))} warmup ${JSON.stringify(Object.fromEntries([...by].map(([e, m]) => [e, m.warmupMs])))}`,
    )
    const rows = [
      row({
        operation: 'first audio after construction, cold process',
        unit: 'ms',
        better: 'lower',
        before: median(perInstance),
        after: median(wasm.cold),
        spread: spreadText(wasm.cold, 'processes'),
        target: { op: '<=', value: 400 },
      }),
      row({
        operation: 'warmup() after construction',
        unit: 'ms',
        better: 'lower',
        after: median(wasm.warmupMs),
      }),
      row({
        operation: 'first audio after warmup() resolved',
        unit: 'ms',
        better: 'lower',
        after: median(wasm.warmup),
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
        after: median(perSecond(full)),
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
    ]
    const js = by.get('wasm2js')
    if (js?.full !== undefined) {
      // The default engine as before: the same package without the WebAssembly build installed.
      const jsWav = summarize(js.full.warmWavMs ?? [])
      rows.push(
        row({
          operation:
            'default engine, WebAssembly vs wasm2js build: first audio after construction, cold process',
          unit: 'ms',
          better: 'lower',
          before: median(js.cold),
          after: median(wasm.cold),
          spread: spreadText(js.cold, 'processes (wasm2js)'),
          target: { op: '<=', value: 400 },
        }),
        row({
          operation: 'default engine, WebAssembly vs wasm2js build: warmup() after construction',
          unit: 'ms',
          better: 'lower',
          before: median(js.warmupMs),
          after: median(wasm.warmupMs),
        }),
        row({
          operation: 'default engine, WebAssembly vs wasm2js build: warm synthesis per sentence, WAV, p50',
          unit: 'ms',
          better: 'lower',
          before: jsWav.median,
          after: wav.median,
          spread: spreadText(js.full.warmWavMs ?? [], 'sentences (wasm2js)'),
          target: { op: '<=', value: 10 },
        }),
        row({
          operation:
            'default engine, WebAssembly vs wasm2js build: warm synthesis per second of speech, WAV, p50',
          unit: 'ms',
          better: 'lower',
          before: median(perSecond(js.full)),
          after: median(perSecond(full)),
        }),
      )
    }
    const system = by.get('espeak-ng')
    if (system?.full !== undefined) {
      // The "before" column holds the default WASM engine measured in the same run.
      const sysWav = summarize(system.full.warmWavMs ?? [])
      const sysLocal = system.full.localWavMs ?? []
      rows.push(
        row({
          operation: 'system espeak-ng engine: first audio after construction, cold process',
          unit: 'ms',
          better: 'lower',
          before: median(wasm.cold),
          after: median(system.cold),
          spread: spreadText(system.cold, 'processes'),
          target: { op: '<=', value: 400 },
        }),
        row({
          operation: 'system espeak-ng engine: warmup() after construction',
          unit: 'ms',
          better: 'lower',
          before: median(wasm.warmupMs),
          after: median(system.warmupMs),
        }),
        row({
          operation: 'system espeak-ng engine: first audio after warmup() resolved',
          unit: 'ms',
          better: 'lower',
          before: median(wasm.warmup),
          after: median(system.warmup),
          spread: spreadText(system.warmup, 'processes'),
          target: { op: '<=', value: 400 },
        }),
        row({
          operation: 'system espeak-ng engine: warm synthesis per sentence, WAV, p50',
          unit: 'ms',
          better: 'lower',
          before: wav.median,
          after: sysWav.median,
          spread: spreadText(system.full.warmWavMs ?? [], 'sentences'),
          target: { op: '<=', value: 10 },
        }),
        row({
          operation: 'system espeak-ng engine: warm synthesis per sentence, WAV, p99',
          unit: 'ms',
          better: 'lower',
          before: wav.p99,
          after: sysWav.p99,
        }),
        row({
          operation: 'system espeak-ng engine: warm synthesis per sentence, WAV, engine alone, p50',
          unit: 'ms',
          better: 'lower',
          before: median(localWav),
          after: median(sysLocal),
          spread: spreadText(sysLocal, 'sentences'),
        }),
        row({
          operation: 'system espeak-ng engine: warm synthesis per second of speech, WAV, p50',
          unit: 'ms',
          better: 'lower',
          before: median(perSecond(full)),
          after: median(perSecond(system.full)),
        }),
      )
    }
    return {
      rows,
      notes: [
        `Each figure from fresh processes: cold first audio is the median of ${wasm.cold.length} processes per engine (the naive per-instance pool: ${perInstance.length}); it includes starting a worker thread and loading the engine there. Warm latency: ${count} Italian sentences one at a time through VoiceSystem.synthesize after warming every pool thread, Ogg and WAV alternating. Encode: the package’s worker function on one thread, the same sentence as WAV and as Ogg/Opus, the difference per sentence. The sentences are a bot’s replies of ${Math.round(median(speech))} ms of speech (median); the engine’s time grows with the length of the speech, hence the per-second row. Children run as plain JavaScript under node (bundled with esbuild), not under tsx, whose loader every worker thread would also start.`,
        binary
          ? 'The "system espeak-ng engine" rows run the same children with engine: "espeak-ng" (the installed espeak-ng program, one process per sentence); their "before" column is the default WASM engine from the same run, the two engines interleaved in every repetition.'
          : 'espeak-ng is not installed here, so the system binary engine was not measured.',
        'The "WebAssembly vs wasm2js build" rows compare the default engine as installed with @taurobot/espeak-ng-wasm (espeak-ng compiled to WebAssembly) against the same package in an install that has only @echogarden/espeak-ng-emscripten (the same espeak-ng and data, compiled to JavaScript by wasm2js), as before; same children, interleaved in every repetition.',
      ],
    }
  },
})
