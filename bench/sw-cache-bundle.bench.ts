import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { minGzipSize } from './lib/esbuild-size.js'
import { row } from './lib/result.js'
import { BUNDLE_ENTRIES } from './lib/sw-sources.js'

await runBench(fileURLToPath(import.meta.url), {
  title: 'service-worker bundle size, min+gzip',
  claim:
    '@taurobot/sw-cache: the whole feature set is a fraction of Workbox and Serwist with the same features (budgets: stale-while-revalidate alone ≤ 1.5 KB min+gzip, a worker using every feature ≤ 2,600 B, the page helper ≤ 500 B).',
  notCovered: [
    'Brotli (most CDNs serve it; sizes would be a little smaller for everyone).',
    'Runtime cost: see sw-cache-browser.',
  ],
  async run() {
    const dir = import.meta.dirname
    const sizes: Record<string, { min: number; gzip: number }> = {}
    const development: Record<string, { min: number; gzip: number }> = {}
    for (const [name, source] of Object.entries(BUNDLE_ENTRIES)) {
      sizes[name] = await minGzipSize(source, dir)
      development[name] = await minGzipSize(source, dir, 'development')
    }
    const g = (name: keyof typeof BUNDLE_ENTRIES) => sizes[name]?.gzip ?? null
    const m = (name: keyof typeof BUNDLE_ENTRIES) => sizes[name]?.min ?? null
    const d = (name: keyof typeof BUNDLE_ENTRIES) => development[name]?.gzip ?? null
    return {
      rows: [
        row({
          operation: 'stale-while-revalidate alone, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-swr'),
          peers: {
            'Workbox StaleWhileRevalidate': g('workbox-swr'),
            'Serwist StaleWhileRevalidate': g('serwist-swr'),
          },
          versus: 'Workbox StaleWhileRevalidate',
          target: { op: '<=', value: 1536 },
        }),
        row({
          operation: 'SWR + expiration + cacheable filter + update notice, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-full'),
          peers: {
            'Workbox strategies+expiration+cacheable-response+broadcast-update': g('workbox-features'),
            'Serwist same plugins': g('serwist-features'),
          },
          versus: 'Workbox strategies+expiration+cacheable-response+broadcast-update',
        }),
        row({
          operation: 'the whole feature set incl. precache and old-cache cleanup, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-full'),
          peers: {
            'Workbox same + workbox-precaching': g('workbox-full'),
            'Serwist class with precache, cleanup, fallback': g('serwist-full'),
          },
          versus: 'Workbox same + workbox-precaching',
        }),
        row({
          operation: 'every feature: + revisioned manifest, cached ranges, navigation preload, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-all'),
          peers: {},
          target: { op: '<=', value: 2600 },
        }),
        row({
          operation: 'every feature + one-reload deploys (worker side) and counters, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-deploys'),
          peers: { 'Workbox whole feature set + SKIP_WAITING listener (no counters)': g('workbox-deploys') },
          versus: 'Workbox whole feature set + SKIP_WAITING listener (no counters)',
          target: { op: '<=', value: 2600 },
        }),
        row({
          operation: 'page helper for one-reload deploys alone, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-client-alone'),
          peers: {},
          target: { op: '<=', value: 500 },
        }),
        row({
          operation: 'a page using it: helper, update button and notices, min+gzip',
          unit: 'B',
          better: 'lower',
          after: g('ours-client'),
          peers: { 'workbox-window': g('workbox-window') },
          versus: 'workbox-window',
        }),
        row({
          operation: 'the whole feature set, minified (before gzip)',
          unit: 'B',
          better: 'lower',
          after: m('ours-full'),
          peers: {
            'Workbox same + workbox-precaching': m('workbox-full'),
            'Serwist class with precache, cleanup, fallback': m('serwist-full'),
          },
          versus: 'Workbox same + workbox-precaching',
        }),
        row({
          operation: 'development build: stale-while-revalidate alone, min+gzip',
          unit: 'B',
          better: 'lower',
          after: d('ours-swr'),
          peers: {
            'Workbox StaleWhileRevalidate': d('workbox-swr'),
            'Serwist StaleWhileRevalidate': d('serwist-swr'),
          },
          versus: 'Workbox StaleWhileRevalidate',
        }),
        row({
          operation: 'development build: the whole feature set, min+gzip',
          unit: 'B',
          better: 'lower',
          after: d('ours-full'),
          peers: {
            'Workbox same + workbox-precaching': d('workbox-full'),
            'Serwist class with precache, cleanup, fallback': d('serwist-full'),
          },
          versus: 'Workbox same + workbox-precaching',
        }),
      ],
      notes: [
        'Each entry is a complete service worker using the features it is credited with (so tree-shaking keeps them), bundled with esbuild (minify, ES2020, IIFE, process.env.NODE_ENV = "production", which esbuild also sets by itself when it minifies for the browser) and compressed with gzip -9. The "whole feature set" entry of @taurobot/sw-cache serves both feature rows.',
        'Development build rows: the same bundles with process.env.NODE_ENV = "development": @taurobot/sw-cache keeps its option checks and long error messages, Workbox and Serwist their logging and assertions.',
      ],
    }
  },
})
