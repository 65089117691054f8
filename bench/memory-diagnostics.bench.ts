import { tracingChannel } from 'node:diagnostics_channel'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Memory, memoryBackend, memoryChannels, openMemory } from '@taurobot/memory'
import { registerMemoryMetrics } from '@taurobot/memory/metrics'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

type BackendKind = 'memory' | 'file'
type Variant = 'no subscriber' | 'exporter attached'
const VARIANTS: Variant[] = ['no subscriber', 'exporter attached']
const CONVERSATIONS = 50
const CONTENT = 'Quanto costa un biglietto del treno da Milano a Torino domani mattina?'

/**
 * CPU and wall-clock milliseconds for `adds` awaited batched adds over 50 conversations, then
 * flush(); and the saves made. CPU time (every thread of the process) is what the figures use: on
 * a shared machine, wall time also counts the time spent waiting for a core.
 */
async function timeAdds(memory: Memory, adds: number): Promise<{ cpuMs: number; ms: number; saves: number }> {
  let saves = 0
  memory.on('save', () => {
    saves++
  })
  const started = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < adds; i++) await memory.add(i % CONVERSATIONS, { role: 'user', content: CONTENT })
  await memory.flush()
  const used = process.cpuUsage(cpu)
  return { cpuMs: (used.user + used.system) / 1000, ms: performance.now() - started, saves }
}

/**
 * Nanoseconds the store's publish guard adds to one backend write when nobody subscribes: the same
 * check and the same extra call as the store's save path, timed against calling the write directly.
 */
function guardNs(iterations: number): number {
  const save = tracingChannel(memoryChannels.save)
  const result = { bytes: 1 }
  const append = (batch: number[]): { bytes: number } => (batch.length > 0 ? result : { bytes: 0 })
  const guarded = (batch: number[], write: (batch: number[]) => { bytes: number }) => {
    if (!save.hasSubscribers) return write(batch)
    throw new Error('a subscriber is attached: the guard is measured without one')
  }
  const batch = [1]
  const samples: number[] = []
  for (let round = 0; round < 9; round++) {
    let sink = 0
    let t0 = performance.now()
    for (let i = 0; i < iterations; i++) sink += append(batch).bytes
    const direct = performance.now() - t0
    t0 = performance.now()
    for (let i = 0; i < iterations; i++) sink += guarded(batch, (b) => append(b)).bytes
    const viaGuard = performance.now() - t0
    if (sink !== 2 * iterations) throw new Error('the timed loops did not run')
    samples.push(((viaGuard - direct) * 1e6) / iterations)
  }
  return Math.max(0, median(samples))
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'cost of the diagnostics channels per add()',
  claim:
    '@taurobot/memory publishes on node:diagnostics_channel at no measurable cost when nobody subscribes (≤ 1% per add()), and the Prometheus exporter of @taurobot/memory/metrics adds ≤ 5% per add().',
  notCovered: [
    'Strict mode (one write per add when adds are sequential, so the guard and the exporter weigh more per add, but fsync dominates) and the SQLite and Redis backends.',
    'The scrape itself (registry.metrics()): it runs on the scraper’s schedule, not per add().',
    'Other subscribers (an APM tool) cost what their own handlers cost.',
  ],
  async run(ctx) {
    const rounds = ctx.quick ? 5 : 11
    const addsFor: Record<BackendKind, number> = {
      memory: ctx.quick ? 10_000 : 40_000,
      file: ctx.quick ? 1_000 : 3_000,
    }
    const wallUs: Record<BackendKind, Record<Variant, number[]>> = {
      memory: { 'no subscriber': [], 'exporter attached': [] },
      file: { 'no subscriber': [], 'exporter attached': [] },
    }
    const perAddUs: Record<BackendKind, Record<Variant, number[]>> = {
      memory: { 'no subscriber': [], 'exporter attached': [] },
      file: { 'no subscriber': [], 'exporter attached': [] },
    }
    const savesPerAdd: Record<BackendKind, Record<Variant, number[]>> = {
      memory: { 'no subscriber': [], 'exporter attached': [] },
      file: { 'no subscriber': [], 'exporter attached': [] },
    }
    let storeNumber = 0
    for (const kind of ['memory', 'file'] as BackendKind[]) {
      const adds = addsFor[kind]
      // Round 0 warms the JIT and the disk up and is not counted; the variants alternate which
      // goes first, so load that drifts during a round hits both alike.
      for (let round = 0; round <= rounds; round++) {
        const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()
        for (const variant of order) {
          const dir = join(ctx.tmpDir, `${kind}-${storeNumber++}`)
          mkdirSync(dir)
          const memory = await openMemory({
            ...(kind === 'memory' ? { backend: memoryBackend() } : { path: join(dir, 'conversations.json') }),
            flushOnExit: false,
          })
          const metrics = variant === 'exporter attached' ? registerMemoryMetrics() : undefined
          metrics?.track(memory, { store: 'bench' })
          const { cpuMs, ms, saves } = await timeAdds(memory, adds)
          await memory.close()
          metrics?.dispose()
          if (round === 0) continue
          perAddUs[kind][variant].push((cpuMs * 1000) / adds)
          wallUs[kind][variant].push((ms * 1000) / adds)
          savesPerAdd[kind][variant].push(saves / adds)
        }
      }
      ctx.log(
        `${kind}: ${VARIANTS.map((v) => `${v} ${median(perAddUs[kind][v]).toFixed(3)} µs CPU/add (wall ${median(wallUs[kind][v]).toFixed(3)})`).join(', ')}`,
      )
    }
    // The exporter's cost per write, where each add is one write (strict, in-process, sequential
    // adds): large enough to stand out of the noise that a batched add's share drowns in.
    const strictAdds = ctx.quick ? 3_000 : 10_000
    const perWrite: Record<Variant, number[]> = { 'no subscriber': [], 'exporter attached': [] }
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()
      for (const variant of order) {
        const memory = await openMemory({
          backend: memoryBackend(),
          durability: 'strict',
          flushOnExit: false,
        })
        const metrics = variant === 'exporter attached' ? registerMemoryMetrics() : undefined
        metrics?.track(memory, { store: 'bench' })
        const { cpuMs, saves } = await timeAdds(memory, strictAdds)
        await memory.close()
        metrics?.dispose()
        if (saves !== strictAdds) throw new Error(`strict: ${saves} writes for ${strictAdds} adds`)
        if (round > 0) perWrite[variant].push((cpuMs * 1000) / strictAdds)
      }
    }
    const writeDiffs = perWrite['no subscriber'].map(
      (base, i) => (perWrite['exporter attached'][i] as number) - base,
    )
    const exporterPerWriteUs = Math.max(0, median(writeDiffs))
    ctx.log(
      `strict in-process: ${VARIANTS.map((v) => `${v} ${median(perWrite[v]).toFixed(3)} µs CPU/write`).join(', ')}; exporter ${exporterPerWriteUs.toFixed(3)} µs per write`,
    )
    const guard = guardNs(ctx.quick ? 2_000_000 : 10_000_000)
    ctx.log(`publish guard: ${guard.toFixed(2)} ns per write`)

    const label: Record<BackendKind, string> = { memory: 'in-process backend', file: 'file backend' }
    const rows = []
    for (const kind of ['memory', 'file'] as BackendKind[]) {
      const none = perAddUs[kind]['no subscriber']
      const withExporter = perAddUs[kind]['exporter attached']
      const noneUs = median(none)
      const exporterUs = median(withExporter)
      // Per round, so that each ratio compares two runs made back to back.
      const overheads = none.map((base, i) => (((withExporter[i] as number) - base) / base) * 100)
      const guardShare = (((guard / 1000) * median(savesPerAdd[kind]['no subscriber'])) / noneUs) * 100
      const exporterShare =
        ((exporterPerWriteUs * median(savesPerAdd[kind]['exporter attached'])) / noneUs) * 100
      rows.push(
        row({
          operation: `add(), batched, ${label[kind]}, no subscriber (CPU µs per add)`,
          unit: 'µs',
          better: 'lower',
          after: noneUs,
          peers: { 'exporter attached': exporterUs },
          spread: spreadText(none, 'rounds'),
        }),
        row({
          operation: `publish guard with no subscriber, share of add(), ${label[kind]} (%)`,
          unit: '%',
          better: 'lower',
          after: guardShare,
          target: { op: '<=', value: 1 },
        }),
        row({
          operation: `exporter attached, its cost per write times writes per add, share of add(), ${label[kind]} (%)`,
          unit: '%',
          better: 'lower',
          after: exporterShare,
          target: { op: '<=', value: 5 },
        }),
        row({
          operation: `exporter attached against no subscriber, whole runs side by side, ${label[kind]} (% more CPU per add)`,
          unit: '%',
          better: 'lower',
          after: median(overheads),
          spread: `per-round ratios, ${overheads.length} rounds, min ${Math.min(...overheads).toFixed(1)}%, max ${Math.max(...overheads).toFixed(1)}%`,
        }),
      )
    }
    const wall = (kind: BackendKind, variant: Variant) => median(wallUs[kind][variant]).toFixed(2)
    const writes = (kind: BackendKind, variant: Variant) =>
      `${(median(savesPerAdd[kind][variant]) * 100).toFixed(1)}`
    return {
      rows,
      notes: [
        `Wall-clock µs per add (medians; they include waiting for a core on a busy machine): in-process ${wall('memory', 'no subscriber')} with no subscriber, ${wall('memory', 'exporter attached')} with the exporter; file ${wall('file', 'no subscriber')} and ${wall('file', 'exporter attached')}.`,
        `Backend writes per 100 adds, in-process: ${writes('memory', 'no subscriber')} with no subscriber, ${writes('memory', 'exporter attached')} with the exporter; file: ${writes('file', 'no subscriber')} and ${writes('file', 'exporter attached')}. A write traced whole (a subscriber to the trace’s start) settles a few microtasks later, so the adds made meanwhile join the next write: writes can then be fewer and larger; with the exporter alone (its outcome only) they are not.`,
        `Each round opens a fresh store per variant and times ${addsFor.memory} (in-process) or ${addsFor.file} (file) awaited add() calls over ${CONVERSATIONS} conversations with the default options (batched, saveEvery 5), then flush(); ${rounds} rounds after one warm-up, the two variants alternating which goes first; CPU time of the process (process.cpuUsage, all threads), medians; the whole-run comparison is the median of the per-round ratios.`,
        `The guard: what the store does per backend write when nobody subscribes (one hasSubscribers check and one extra call), timed against the direct call: ${guard.toFixed(2)} ns per write, median of 9 loops; its share is that cost times the writes per add, over the cost of an add with no subscriber.`,
        `The exporter's cost per write: ${strictAdds} strict adds to an in-process store (one write each), exporter attached against no subscriber, ${rounds} rounds alternating, median of the per-round differences: ${exporterPerWriteUs.toFixed(2)} µs CPU per write (${median(perWrite['no subscriber']).toFixed(2)} µs per strict add with no subscriber). Its share is that cost times the writes per batched add (with the exporter), over the CPU of a batched add with no subscriber. The whole-run comparison is shown too: on a shared machine its per-round ratios spread far wider than the effect.`,
        'Exporter attached: registerMemoryMetrics() on prom-client’s default registry, the store tracked; each write then publishes its outcome (asyncEnd, without tracePromise) and adds to four running numbers (three totals and a bucket of the duration histogram), handed to prom-client at scrape time.',
      ],
    }
  },
})
