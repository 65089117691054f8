import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { runChild } from './lib/child.js'
import { VOICE_ENTRY, type VoiceModule } from './lib/contracts.js'
import { formatMs } from './lib/format.js'
import { type Row, row } from './lib/result.js'
import type { VoiceChildReport, VoiceMode } from './lib/voice-child.js'

type PoolMode = Exclude<VoiceMode, 'floor'>
const MODES: PoolMode[] = ['per-instance', 'ours', 'piscina-defaults']
const LABELS: Record<PoolMode, string> = {
  'per-instance': 'one piscina pool per instance',
  ours: '@taurobot/voice shared pool',
  'piscina-defaults': 'one plain piscina pool (defaults)',
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: 20 VoiceSystem instances × 100 Italian sentences',
  claim:
    'All VoiceSystem instances share one pool: with 20 instances and 100 Italian sentences, ≤ 2 worker threads and ≤ 220 MB RSS on 2 cores, and the process exits ≤ 50 ms after its last task without any cleanup call; one pool per instance (the naive port) multiplies threads, memory and CPU.',
  requires: [
    { module: VOICE_ENTRY, export: 'VoiceSystem' },
    { module: '@taurobot/voice/worker', export: 'runTask' },
  ],
  async ready() {
    try {
      const { VoiceSystem, voicePool } = (await import(VOICE_ENTRY)) as VoiceModule
      await new VoiceSystem({ language: 'it' }).synthesize('Ciao!')
      await voicePool.close()
      return null
    } catch (error) {
      return `@taurobot/voice cannot synthesize here: ${error instanceof Error ? error.message : String(error)}`
    }
  },
  notCovered: [
    'Other engines than the default espeak-ng WASM engine, and machines with more cores (the shared pool sizes itself to the cores; per-instance pools grow with them too).',
    'Latency per sentence: see voice-latency.',
    'All three arrangements run the same worker code (the package’s worker entry: engine + Ogg/Opus encoder); only the pools differ.',
  ],
  async run(ctx) {
    // Every extra thread loads and warms up its own engine (seconds of CPU each), so the sweep is
    // kept to its ends: one instance, and the claim's 20.
    const instanceCounts = ctx.quick ? [2] : [1, 20]
    const sentences = ctx.quick ? 10 : 100
    const exitWaitMs = ctx.quick ? 5_000 : 10_000
    const runs: Record<PoolMode, Array<{ report: VoiceChildReport; exitAfterMs: number | null }>> = {
      'per-instance': [],
      ours: [],
      'piscina-defaults': [],
    }
    for (const instances of instanceCounts) {
      for (const mode of MODES) {
        const run = await runChild<VoiceChildReport>(
          'voice-child.ts',
          [mode, String(instances), String(sentences)],
          'VOICE_REPORT',
          exitWaitMs,
        )
        runs[mode].push(run)
        ctx.log(
          `${mode} × ${instances}: ${run.report.workerThreadsMax} threads, ${Math.round(run.report.peakRssBytes / 1e6)} MB, cpu ${formatMs(run.report.cpuMs)}, wall ${formatMs(run.report.wallMs)}, exit ${run.exitAfterMs === null ? 'never' : formatMs(run.exitAfterMs)}`,
        )
      }
    }
    const top = instanceCounts[instanceCounts.length - 1] as number
    const floor = await runChild<VoiceChildReport>(
      'voice-child.ts',
      ['floor', '1', '1'],
      'VOICE_REPORT',
      exitWaitMs,
    )
    const at = (mode: PoolMode) =>
      runs[mode][instanceCounts.length - 1] as { report: VoiceChildReport; exitAfterMs: number | null }
    const mk = (
      operation: string,
      unit: string,
      pick: (r: { report: VoiceChildReport; exitAfterMs: number | null }) => number | null,
      target?: { op: '<=' | '>='; value: number },
    ): Row =>
      row({
        operation: `${operation}, ${top} instances × ${sentences} sentences`,
        unit,
        better: 'lower',
        before: pick(at('per-instance')),
        after: pick(at('ours')),
        peers: { [LABELS['piscina-defaults']]: pick(at('piscina-defaults')) },
        ...(target === undefined ? {} : { target }),
      })
    const notExited = MODES.filter((m) => runs[m].some((r) => r.exitAfterMs === null))
    return {
      rows: [
        mk('worker threads (peak)', 'count', (r) => r.report.workerThreadsMax, { op: '<=', value: 2 }),
        mk('OS threads added (peak)', 'count', (r) => r.report.osThreadsMax - r.report.osThreadsBefore),
        mk('peak RSS', 'B', (r) => r.report.peakRssBytes, { op: '<=', value: 220 * 1024 * 1024 }),
        mk('CPU time', 'ms', (r) => r.report.cpuMs),
        mk('wall time', 'ms', (r) => r.report.wallMs),
        row({
          operation: `last task → natural exit, ${top} instances × ${sentences} sentences`,
          unit: 'ms',
          better: 'lower',
          before: at('per-instance').exitAfterMs,
          after: at('ours').exitAfterMs,
          peers: {
            [LABELS['piscina-defaults']]: at('piscina-defaults').exitAfterMs,
            'the same process without any pool (floor)': floor.exitAfterMs,
          },
          target: { op: '<=', value: 50 },
        }),
      ],
      notes: [
        `Each arrangement runs in a fresh process (${instanceCounts.join(', ')} instances, ${sentences} sentences in all, submitted at once and spread over the instances, Ogg/Opus output). Threads: the pools' own thread counts sampled every 10 ms, and the process's OS threads (/proc) above its count at start. Peak RSS: VmHWM. CPU: process.cpuUsage(), all threads. Natural exit: from the last task's completion in the child to the child's exit seen by the parent, with no close() or cleanup call.`,
        notExited.length === 0
          ? 'Every process exited by itself.'
          : `Did not exit by itself within ${exitWaitMs / 1000} s and was killed: ${notExited.map((m) => LABELS[m]).join(', ')}.`,
        'Wall and CPU time include loading the engine on every new thread (WASM compile and warm-up), which is what extra threads cost.',
      ],
      charts: [
        {
          file: 'bench-voice-threads.svg',
          title: `Worker threads and peak RSS vs VoiceSystem instances (${sentences} sentences)`,
          xLabel: 'VoiceSystem instances',
          categories: instanceCounts.map(String),
          panels: [
            {
              yLabel: 'worker threads',
              unit: 'count',
              logScale: false,
              series: MODES.map((m) => ({
                name: LABELS[m],
                values: runs[m].map((r) => r.report.workerThreadsMax),
              })),
            },
            {
              yLabel: 'peak RSS',
              unit: 'B',
              logScale: false,
              series: MODES.map((m) => ({
                name: LABELS[m],
                values: runs[m].map((r) => r.report.peakRssBytes),
              })),
            },
          ],
        },
      ],
    }
  },
})
