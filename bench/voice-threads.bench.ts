import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { formatMs } from './lib/format.js'
import { type Row, row } from './lib/result.js'
import { median } from './lib/stats.js'
import type { VoiceChildReport, VoiceMode } from './lib/voice-child.js'
import { bundleChild, runPlainChild } from './lib/voice-spawn.js'

type PoolMode = Exclude<VoiceMode, 'floor'>

interface VoiceRun {
  report: VoiceChildReport
  /** Last task settled → the child's 'exit' event (its event loop ran empty). */
  loopEmptyAfterMs: number | null
  /** Last task settled → the parent sees the process gone; null if it had to be killed. */
  exitAfterMs: number | null
}

const MODES: PoolMode[] = ['per-instance', 'ours', 'piscina-defaults']
const LABELS: Record<PoolMode, string> = {
  'per-instance': 'one piscina pool per instance',
  ours: '@taurobot/voice shared pool',
  'piscina-defaults': 'one plain piscina pool (defaults)',
}

async function runVoiceChild(script: string, args: string[], exitWaitMs: number): Promise<VoiceRun> {
  const run = await runPlainChild(script, args, 'VOICE_REPORT', exitWaitMs)
  const report = JSON.parse(run.lines.VOICE_REPORT as string) as VoiceChildReport
  const done = report.lastTaskDoneEpochMs
  const loopEmptyAt = Number(run.lines.VOICE_EXIT)
  return {
    report,
    loopEmptyAfterMs: Number.isFinite(loopEmptyAt) ? Math.max(0, loopEmptyAt - done) : null,
    exitAfterMs: run.killed ? null : Math.max(0, run.exitedAtEpochMs - done),
  }
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: 20 VoiceSystem instances × 100 Italian sentences',
  claim:
    'All VoiceSystem instances share one pool: with 20 instances and 100 Italian sentences, ≤ 2 worker threads and ≤ 220 MB RSS on 2 cores, and the process exits ≤ 50 ms after its last task without any cleanup call; one pool per instance (the naive port) multiplies threads, memory and CPU.',
  async ready() {
    try {
      const { VoiceSystem, voicePool } = await import('@taurobot/voice')
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
    const script = await bundleChild('voice-child')
    const runs: Record<PoolMode, VoiceRun[]> = {
      'per-instance': [],
      ours: [],
      'piscina-defaults': [],
    }
    for (const instances of instanceCounts) {
      for (const mode of MODES) {
        const run = await runVoiceChild(script, [mode, String(instances), String(sentences)], exitWaitMs)
        runs[mode].push(run)
        ctx.log(
          `${mode} × ${instances}: ${run.report.workerThreadsMax} threads, ${Math.round(run.report.peakRssBytes / 1e6)} MB, cpu ${formatMs(run.report.cpuMs)}, wall ${formatMs(run.report.wallMs)}, exit ${run.exitAfterMs === null ? 'never' : formatMs(run.exitAfterMs)} ('exit' event ${run.loopEmptyAfterMs === null ? '?' : formatMs(run.loopEmptyAfterMs)})`,
        )
      }
    }
    const top = instanceCounts[instanceCounts.length - 1] as number
    // The same process with no pool at all, several times: what exiting costs any Node process.
    const floors: VoiceRun[] = []
    for (let i = 0; i < (ctx.quick ? 3 : 7); i++)
      floors.push(await runVoiceChild(script, ['floor', '1', '1'], exitWaitMs))
    const floorOf = (pick: (r: VoiceRun) => number | null) =>
      median(floors.map(pick).filter((v) => v !== null))
    const at = (mode: PoolMode) => runs[mode][instanceCounts.length - 1] as VoiceRun
    const mk = (
      operation: string,
      unit: string,
      pick: (r: VoiceRun) => number | null,
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
    ctx.log(
      `floor: exit ${floors.map((r) => (r.exitAfterMs === null ? 'never' : formatMs(r.exitAfterMs))).join(', ')}; 'exit' event ${floors.map((r) => (r.loopEmptyAfterMs === null ? '?' : formatMs(r.loopEmptyAfterMs))).join(', ')}`,
    )
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
            'the same process without any pool (floor)': floorOf((r) => r.exitAfterMs),
          },
          target: { op: '<=', value: 50 },
        }),
        row({
          operation: `last task → event loop empty ('exit' event), ${top} instances × ${sentences} sentences`,
          unit: 'ms',
          better: 'lower',
          before: at('per-instance').loopEmptyAfterMs,
          after: at('ours').loopEmptyAfterMs,
          peers: {
            [LABELS['piscina-defaults']]: at('piscina-defaults').loopEmptyAfterMs,
            'the same process without any pool (floor)': floorOf((r) => r.loopEmptyAfterMs),
          },
        }),
      ],
      notes: [
        `Each arrangement runs in a fresh process (${instanceCounts.join(', ')} instances, ${sentences} sentences in all, submitted at once and spread over the instances, Ogg/Opus output). Threads: the pools' own thread counts sampled every 10 ms, and the process's OS threads (/proc) above its count at start. Peak RSS: VmHWM. CPU: process.cpuUsage(), all threads. Natural exit: from the last task's completion in the child to the child's exit seen by the parent, with no close() or cleanup call; the 'exit' event row splits off the runtime's own teardown, which any Node process pays (the floor: median of ${floors.length} processes that have no pool). Children run as plain JavaScript under node (bundled with esbuild), as a deployed bot does, not under tsx, whose asynchronous cache writes kept every child alive about 45 ms longer.`,
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
