import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { runBench } from './lib/bench.js'
import { launchChromium } from './lib/chromium.js'
import { bundle } from './lib/esbuild-size.js'
import { chromiumReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { median, spreadText, summarize } from './lib/stats.js'
import { type Origin, startOrigin } from './lib/sw-origin.js'
import { BROWSER_WORKERS } from './lib/sw-sources.js'

type Variant = 'ours' | 'workbox' | 'cache-first' | 'network'
const VARIANTS: Variant[] = ['cache-first', 'ours', 'workbox', 'network']
const LABELS: Record<Variant, string> = {
  ours: '@taurobot/sw-cache',
  workbox: 'Workbox SWR + expiration',
  'cache-first': 'cache-first (the original worker)',
  network: 'network, no worker',
}
const DELAY_MS = 25
const BURST = 20

await runBench(fileURLToPath(import.meta.url), {
  title: 'service worker in Chromium: hit latency and origin requests per burst',
  claim:
    'A cache hit answers within 1.5× of the cache-first worker’s latency; 20 concurrent hits or misses of one URL cost one origin request (Workbox: 20).',
  ready: chromiumReady,
  notCovered: [
    'Other browsers (Firefox, Safari) and mobile devices.',
    `Real network conditions: the origin is on loopback and answers after a fixed ${DELAY_MS} ms.`,
    'max-age freshness, update notices and offline fallbacks are covered by the package’s browser tests, not timed here.',
    'Serwist (a fork of Workbox’s runtime) is compared on bundle size only.',
  ],
  async run(ctx) {
    const dir = import.meta.dirname
    const origins = {} as Record<Variant, Origin>
    for (const v of VARIANTS) {
      let code: string | null = null
      if (v === 'cache-first') {
        code = `self.PRECACHE_URLS = ['/asset/latency'];\n${await bundle(BROWSER_WORKERS['cache-first'], dir)}`
      } else if (v !== 'network') {
        code = await bundle(BROWSER_WORKERS[v], dir)
      }
      origins[v] = await startOrigin(code, DELAY_MS)
    }
    const context = await launchChromium(ctx.tmpDir)
    try {
      const pages = {} as Record<Variant, Page>
      const workerErrors: string[] = []
      for (const v of VARIANTS) {
        const page = await context.newPage()
        page.on('pageerror', (e) => workerErrors.push(`${v} page: ${e.message}`))
        await page.goto(`${origins[v].url}/`)
        await page.evaluate('window.swReady')
        pages[v] = page
      }
      for (const w of context.serviceWorkers()) {
        w.on('console', (m) => {
          if (m.type() === 'error') workerErrors.push(`worker: ${m.text()}`)
        })
      }
      const settle = () => new Promise((r) => setTimeout(r, DELAY_MS + 400))
      // Warm-up: the first request fills the caches (cache-first precached it on install).
      for (const v of VARIANTS) await pages[v].evaluate(`window.timeFetches('/asset/latency', 3)`)
      await settle()

      const rounds = ctx.quick ? 5 : 15
      const latency: Record<Variant, number[]> = { ours: [], workbox: [], 'cache-first': [], network: [] }
      for (let r = 0; r < rounds; r++) {
        for (const v of VARIANTS) {
          const times = (await pages[v].evaluate(`window.timeFetches('/asset/latency', 20)`)) as number[]
          latency[v].push(...times)
        }
      }
      await settle()

      // Bursts: ours and Workbox, plus the page without a worker for misses.
      const reps = ctx.quick ? 2 : 3
      const hits: Record<'ours' | 'workbox', number[]> = { ours: [], workbox: [] }
      const misses: Record<'ours' | 'workbox' | 'network', number[]> = { ours: [], workbox: [], network: [] }
      const missMs: Record<'ours' | 'workbox' | 'network', number[]> = { ours: [], workbox: [], network: [] }
      let notOk = 0
      for (let rep = 0; rep < reps; rep++) {
        for (const v of ['ours', 'workbox'] as const) {
          const path = `/asset/hit-${rep}`
          await pages[v].evaluate(`window.timeFetches('${path}', 1)`)
          await settle()
          const before = origins[v].counts.get(path) ?? 0
          const res = (await pages[v].evaluate(`window.burst('${path}', ${BURST})`)) as {
            ms: number
            ok: number
          }
          notOk += BURST - res.ok
          await settle()
          hits[v].push((origins[v].counts.get(path) ?? 0) - before)
        }
        for (const v of ['ours', 'workbox', 'network'] as const) {
          const path = `/asset/miss-${rep}`
          const res = (await pages[v].evaluate(`window.burst('${path}', ${BURST})`)) as {
            ms: number
            ok: number
          }
          notOk += BURST - res.ok
          await settle()
          misses[v].push(origins[v].counts.get(path) ?? 0)
          missMs[v].push(res.ms)
        }
      }
      const lat = (v: Variant, f: 'median' | 'p99') => summarize(latency[v])[f]
      const cacheFirstP50 = lat('cache-first', 'median')
      return {
        rows: [
          row({
            operation: 'cached response latency p50',
            unit: 'ms',
            better: 'lower',
            before: cacheFirstP50,
            after: lat('ours', 'median'),
            peers: { [LABELS.workbox]: lat('workbox', 'median'), [LABELS.network]: lat('network', 'median') },
            spread: spreadText(latency.ours, 'requests'),
            target: { op: '<=', value: 1.5 * cacheFirstP50 },
          }),
          row({
            operation: 'cached response latency p99',
            unit: 'ms',
            better: 'lower',
            before: lat('cache-first', 'p99'),
            after: lat('ours', 'p99'),
            peers: { [LABELS.workbox]: lat('workbox', 'p99'), [LABELS.network]: lat('network', 'p99') },
          }),
          row({
            operation: `origin requests, ${BURST} concurrent hits of one stale URL`,
            unit: 'count',
            better: 'lower',
            after: median(hits.ours),
            peers: { [LABELS.workbox]: median(hits.workbox) },
            versus: LABELS.workbox,
            target: { op: '==', value: 1 },
          }),
          row({
            operation: `origin requests, ${BURST} concurrent misses of one URL`,
            unit: 'count',
            better: 'lower',
            after: median(misses.ours),
            peers: { [LABELS.workbox]: median(misses.workbox), [LABELS.network]: median(misses.network) },
            versus: LABELS.workbox,
            target: { op: '==', value: 1 },
          }),
          row({
            operation: `time until all ${BURST} concurrent misses answered`,
            unit: 'ms',
            better: 'lower',
            after: median(missMs.ours),
            peers: { [LABELS.workbox]: median(missMs.workbox), [LABELS.network]: median(missMs.network) },
            versus: LABELS.workbox,
          }),
        ],
        notes: [
          `Debian Chromium (headless), one origin per variant on 127.0.0.1, the origin answering each /asset/ request after ${DELAY_MS} ms with ~1 KB of JSON and no Cache-Control (so every hit is stale and revalidated). Latency: ${rounds} rounds × 20 sequential fetch() calls from the page per variant, variants interleaved; p50/p99 over all ${latency.ours.length} requests (${spreadText(latency['cache-first'], 'requests')} for cache-first).`,
          `Bursts: ${BURST} concurrent fetch() calls from the page, origin requests counted by the origin server including background revalidations (waiting ${DELAY_MS + 400} ms after the burst); median of ${reps} bursts on fresh URLs. Responses that were not 200: ${notOk}.`,
          workerErrors.length === 0
            ? 'No page or worker errors.'
            : `Errors seen: ${workerErrors.slice(0, 5).join(' | ')}`,
        ],
      }
    } finally {
      await context.close()
      for (const v of VARIANTS) await origins[v].close()
    }
  },
})
