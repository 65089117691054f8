import { tracingChannel } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { registerVoiceMetrics } from '@taurobot/voice/metrics'
import { build } from 'esbuild'
import { Registry } from 'prom-client'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

// The pool core (packages/voice/src/pool/pool.ts) is the only place the package publishes from; it
// is bundled twice into one process: as shipped, and with its diagnostics module replaced by one
// whose channels never have subscribers (publishing skipped). Each build is a private pool of one
// thread (not the process-wide voicePool), so both run side by side in the same process.
const benchDir = import.meta.dirname
const voiceSrc = join(benchDir, '..', 'packages', 'voice', 'src')

interface PoolTaskShape {
  kind: 'synthesize'
  engine: string
  text: string
  options: { language: string; rate: number; volume: number; voice: undefined; pitch: number }
  format: 'wav' | 'ogg'
}
interface PoolCoreShape {
  configure(options: { maxThreads: number; workerPath: string }): void
  run(task: PoolTaskShape): Promise<{ durationMs: number }>
  close(): Promise<void>
}

/** Bundles a module of the pool to `bench/.tmp/<name>.mjs`, the diagnostics module swapped if `off`. */
async function bundle<T>(entry: string, name: string, off: boolean): Promise<T> {
  const outfile = join(benchDir, '.tmp', `${name}.mjs`)
  await build({
    entryPoints: [join(voiceSrc, 'pool', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: off
      ? [
          {
            name: 'diagnostics-off',
            setup(b) {
              b.onResolve({ filter: /\/diagnostics\.js$/ }, () => ({
                path: join(benchDir, 'lib', 'voice-diagnostics-off.ts'),
              }))
            },
          },
        ]
      : [],
  })
  return (await import(outfile)) as T
}

interface TaskTraceShape {
  traceTask<T>(
    task: PoolTaskShape,
    submit: (trace: Record<string, unknown> | undefined) => Promise<T>,
  ): Promise<T>
  endTrace(trace: Record<string, unknown> | undefined, outcome: 'completed'): void
}

/**
 * Main-thread time per task of the pool's diagnostics path alone, in µs: `traceTask()` and
 * `endTrace()` as the pool calls them around a task that resolves at once, minus the same loop
 * calling the task directly (publishing skipped). Blocks alternate; median of block means.
 */
async function tracingCost(trace: TaskTraceShape, task: PoolTaskShape, blocks: number): Promise<number> {
  const result = { durationMs: 1000, data: new Uint8Array(16) }
  const loops = 5000
  const traced = async () => {
    for (let i = 0; i < loops; i++) {
      await trace.traceTask(task, (message) => {
        if (message) {
          message.waitMs = 0.1
          message.runMs = 10
          message.audioBytes = result.data.byteLength
          message.audioMs = result.durationMs
        }
        trace.endTrace(message, 'completed')
        return Promise.resolve(result)
      })
    }
  }
  const direct = async () => {
    for (let i = 0; i < loops; i++) await Promise.resolve(result)
  }
  const costs: number[] = []
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now()
    await direct()
    const t1 = performance.now()
    await traced()
    const t2 = performance.now()
    costs.push(((t2 - t1 - (t1 - t0)) * 1000) / loops)
  }
  return median(costs)
}

// Short sentences (WAV): the shortest tasks a bot sends, where a fixed cost per task weighs most.
const sentences = [
  'Ciao, come stai?',
  'Il Dott. Rossi riceve il martedì.',
  'La visita costa quarantacinque euro.',
  'Buona giornata e a presto!',
]
const settings = { language: 'it', rate: 150, volume: 1, voice: undefined, pitch: 50 }

type Variant = 'skipped' | 'no subscriber' | 'exporter attached'

await runBench(fileURLToPath(import.meta.url), {
  title: 'voice: cost of diagnostics per task',
  claim:
    'Diagnostics cost per voice task ≤ 1% with no subscriber and ≤ 5% with the Prometheus exporter attached, against the same pool with publishing skipped.',
  notCovered: [
    'Other subscribers than the bundled exporter (an APM tool may do more per event).',
    'The scrape itself (gauges read voicePool.stats() once per scrape, not per task).',
    'Ogg/Opus output: its tasks are longer, so the same fixed cost weighs less.',
  ],
  async run(ctx) {
    const blocks = ctx.quick ? 4 : 12
    const pairsPerBlock = ctx.quick ? 10 : 25
    const workerPath = createRequire(import.meta.url).resolve('@taurobot/voice/worker')
    type PoolModule = { PoolCore: new () => PoolCoreShape }
    const Skipped = (await bundle<PoolModule>('pool.ts', 'voice-pool-diagnostics-off', true)).PoolCore
    const Shipped = (await bundle<PoolModule>('pool.ts', 'voice-pool-diagnostics-on', false)).PoolCore
    const trace = await bundle<TaskTraceShape>('task-trace.ts', 'voice-task-trace', false)
    const skipped = new Skipped()
    const shipped = new Shipped()
    for (const pool of [skipped, shipped]) pool.configure({ maxThreads: 1, workerPath })
    const task = (i: number): PoolTaskShape => ({
      kind: 'synthesize',
      engine: 'espeak-ng-wasm',
      text: sentences[i % sentences.length] as string,
      options: settings,
      format: 'wav',
    })
    // Warm both threads: engine loaded and its compiled code settled.
    for (let i = 0; i < 40; i++) {
      await skipped.run(task(i))
      await shipped.run(task(i))
    }
    // Tasks alternate between the two builds in pairs (the order flipping each pair), and each pair
    // gives a ratio: load on the shared machine drifts over seconds, a pair takes ~20 ms.
    const times: Record<Variant, number[]> = { skipped: [], 'no subscriber': [], 'exporter attached': [] }
    const ratios: Record<Exclude<Variant, 'skipped'>, number[]> = {
      'no subscriber': [],
      'exporter attached': [],
    }
    const timed = async (pool: PoolCoreShape, i: number) => {
      const started = performance.now()
      await pool.run(task(i))
      return performance.now() - started
    }
    for (let b = 0; b < blocks; b++) {
      // Phases alternate block by block, so both see the same stretch of machine load.
      for (const variant of ['no subscriber', 'exporter attached'] as const) {
        const metrics =
          variant === 'exporter attached' ? registerVoiceMetrics({ registry: new Registry() }) : undefined
        try {
          for (let i = 0; i < pairsPerBlock; i++) {
            let base: number
            let ours: number
            if (i % 2 === 0) {
              base = await timed(skipped, i)
              ours = await timed(shipped, i)
            } else {
              ours = await timed(shipped, i)
              base = await timed(skipped, i)
            }
            times.skipped.push(base)
            times[variant].push(ours)
            ratios[variant].push(ours / base)
          }
        } finally {
          metrics?.dispose()
        }
      }
    }
    await Promise.all([skipped.close(), shipped.close()])

    // The diagnostics path alone, on the main thread, where the end-to-end figures above cannot
    // resolve a few µs in ~10 ms tasks on a loaded machine.
    const costBlocks = ctx.quick ? 5 : 21
    const noneUs = await tracingCost(trace, task(0), costBlocks)
    const exporterUs = await (async () => {
      const metrics = registerVoiceMetrics({ registry: new Registry() })
      try {
        return await tracingCost(trace, task(0), costBlocks)
      } finally {
        metrics.dispose()
      }
    })()

    // The whole cost with nobody listening is one read of the task channel's hasSubscribers.
    const traced = tracingChannel('taurobot:voice:task')
    const reads = 5_000_000
    let seen = 0
    const readStarted = performance.now()
    for (let i = 0; i < reads; i++) if (traced.hasSubscribers) seen++
    const guardNs = ((performance.now() - readStarted) * 1e6) / reads
    if (seen !== 0) throw new Error('the task channel had subscribers during the guard measurement')

    const base = median(times.skipped)
    const share = (us: number) => (us / 1000 / base) * 100
    const cost = (variant: Exclude<Variant, 'skipped'>) => (median(ratios[variant]) - 1) * 100
    ctx.log(
      `medians ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])))} guard ${guardNs.toFixed(1)} ns`,
    )
    return {
      rows: [
        row({
          operation: 'voice task (short WAV sentence), publishing skipped → no subscriber',
          unit: 'ms',
          better: 'lower',
          before: base,
          after: median(times['no subscriber']),
          spread: spreadText(times['no subscriber'], 'tasks'),
        }),
        row({
          operation: 'voice task (short WAV sentence), publishing skipped → exporter attached',
          unit: 'ms',
          better: 'lower',
          before: base,
          after: median(times['exporter attached']),
          spread: spreadText(times['exporter attached'], 'tasks'),
        }),
        row({
          operation: 'diagnostics cost per task, no subscriber (median of paired ratios)',
          unit: '%',
          better: 'lower',
          after: cost('no subscriber'),
          spread: spreadText(ratios['no subscriber'], 'pairs'),
        }),
        row({
          operation: 'diagnostics cost per task, exporter attached (median of paired ratios)',
          unit: '%',
          better: 'lower',
          after: cost('exporter attached'),
          spread: spreadText(ratios['exporter attached'], 'pairs'),
        }),
        row({
          operation: 'diagnostics path alone (traceTask + endTrace), no subscriber, per task',
          unit: 'µs',
          better: 'lower',
          after: noneUs,
        }),
        row({
          operation: 'diagnostics path alone, no subscriber, share of the median task',
          unit: '%',
          better: 'lower',
          after: share(noneUs),
          target: { op: '<=', value: 1 },
        }),
        row({
          operation: 'diagnostics path alone (traceTask + endTrace + exporter), exporter attached, per task',
          unit: 'µs',
          better: 'lower',
          after: exporterUs,
        }),
        row({
          operation: 'diagnostics path alone, exporter attached, share of the median task',
          unit: '%',
          better: 'lower',
          after: share(exporterUs),
          target: { op: '<=', value: 5 },
        }),
        row({
          operation: 'the no-subscriber check alone (hasSubscribers read), per task',
          unit: 'ns',
          better: 'lower',
          after: guardNs,
        }),
      ],
      notes: [
        `${blocks * pairsPerBlock} pairs per variant in one process: one task on each build, back to back, in alternating order; the no-subscriber and exporter phases alternate every ${pairsPerBlock} pairs. Each build has its own warm thread.`,
        'End to end, a negative cost means the difference is below the noise of this run; the targets are judged on the diagnostics path alone (the same code the pool runs per task, timed on the main thread in the same process) as a share of the median task of the skipped build.',
      ],
    }
  },
})
