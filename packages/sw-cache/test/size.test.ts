// Bundle size as users pay it: a service worker importing the package, bundled by esbuild the way a
// consumer would (`esbuild sw.js --bundle --minify`: browser platform, IIFE; target ES2020 like the
// bench, bench/lib/esbuild-size.ts), then gzip -9. Minifying for the browser makes esbuild define
// process.env.NODE_ENV as "production" by itself, so that is the production build; the development
// build is the same bundle with NODE_ENV defined as "development". Sizes are deterministic for a
// given source and esbuild version, so these are budgets, not timing assertions.
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { MEASURED_WORKERS } from './measured-workers.js'

// The built files, as published: tsup puts the development checks in the same file as the code
// that calls them, so a module-level statement of theirs stays in a production bundle, where the
// sources (separate modules, side-effect free) would let esbuild drop it and hide the growth.
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const clientEntry = fileURLToPath(new URL('../dist/client.js', import.meta.url))
const sourceEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/** The service workers measured: the four budgeted ones, which the bench measures too, and more. */
const WORKERS = {
  ...MEASURED_WORKERS,
  updates: `
import { serveUpdates, staleWhileRevalidate } from '@taurobot/sw-cache'
serveUpdates()
addEventListener('fetch', (e) => e.respondWith(staleWhileRevalidate(e, { cacheName: 'app-v1' })))
`,
  counters: `
import { countRequests, staleWhileRevalidate } from '@taurobot/sw-cache'
countRequests()
addEventListener('fetch', (e) => e.respondWith(staleWhileRevalidate(e, { cacheName: 'app-v1' })))
`,
  precache: `
import { precache } from '@taurobot/sw-cache'
addEventListener('install', (e) => e.waitUntil(precache('app-v1', ['/'])))
`,
  range: `
import { cachedRange } from '@taurobot/sw-cache'
addEventListener('fetch', (e) => e.respondWith(cachedRange(e.request)))
`,
}

type Build = 'production' | 'development'

async function bundle(worker: keyof typeof WORKERS, kind: Build): Promise<string> {
  const result = await build({
    stdin: { contents: WORKERS[worker], loader: 'js', resolveDir: import.meta.dirname },
    alias: { '@taurobot/sw-cache/client': clientEntry, '@taurobot/sw-cache': entry },
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    ...(kind === 'development' ? { define: { 'process.env.NODE_ENV': '"development"' } } : {}),
  })
  return result.outputFiles[0]?.text ?? ''
}

const gzipped = async (worker: keyof typeof WORKERS, kind: Build) =>
  gzipSync(await bundle(worker, kind), { level: 9 }).length

// The budgets in the build users ship are 1.5 KB for the strategy alone and 2,600 B for a worker
// that uses every feature (precache manifests, range requests and navigation preload included).
// The development budgets are the measured sizes plus a small margin, so growth has to be
// deliberate; the README states the figures.
// A worker with every feature and one-reload deploys and counters too measures 2600 B (it was
// 2884 B, then 2787 B, then 2707 B, then 2575 B; keeping a precached copy precached once it is
// refreshed cost 25 B): its budget is the 2,600 B. The page helper's budget is 500 B in both
// builds (it has no development-only code).
// The development build grew by about 400 B when it began to reject unknown option names with the
// name probably meant, by about 10 B when network-and-cache-failed began to cover a copy too old,
// by about 25 B when precache() began to name a misspelt key of a manifest entry, and by 44 to
// 126 B when it began to refuse a revision no header can hold and to name arrays as such, and by
// about 30 B when it began to refuse a maxEntries, maxAgeSeconds or staleIfError that is no
// number. It measures 2583, 4170 and 4360 B.
const BUDGET: Record<Build, { strategy: number; everything: number; deploys: number }> = {
  production: { strategy: 1536, everything: 2600, deploys: 2600 },
  development: { strategy: 2595, everything: 4185, deploys: 4375 },
}

describe.each(['production', 'development'] as const)('bundle size, %s build (min+gzip)', (kind) => {
  it(`staleWhileRevalidate alone stays within ${BUDGET[kind].strategy} bytes`, async () => {
    const bytes = await gzipped('strategy', kind)
    console.info(`${kind}: staleWhileRevalidate alone ${bytes} B min+gzip`)
    expect(bytes).toBeLessThanOrEqual(BUDGET[kind].strategy)
  })

  it(`the whole feature set stays within ${BUDGET[kind].everything} bytes, and tree-shaking works`, async () => {
    const everything = await gzipped('everything', kind)
    console.info(`${kind}: whole feature set ${everything} B min+gzip`)
    expect(everything).toBeLessThanOrEqual(BUDGET[kind].everything)
    expect(await gzipped('strategy', kind)).toBeLessThan(everything)
    expect(await gzipped('precache', kind)).toBeLessThan(everything / 2)
  })

  it(`with one-reload deploys and counters it stays within ${BUDGET[kind].deploys} bytes`, async () => {
    const bytes = await gzipped('deploys', kind)
    console.info(`${kind}: whole feature set with deploys and counters ${bytes} B min+gzip`)
    expect(bytes).toBeLessThanOrEqual(BUDGET[kind].deploys)
  })

  it('the page helper (@taurobot/sw-cache/client) stays within 500 bytes', async () => {
    const bytes = await gzipped('page', kind)
    console.info(`${kind}: watchUpdates page ${bytes} B min+gzip`)
    expect(bytes).toBeLessThanOrEqual(500)
  })
})

describe('a feature a worker does not import costs it nothing', () => {
  // Text that only one feature's code carries, in either build.
  const MARKS = {
    precache: ['"reload"'],
    range: ['content-range', 'bytes='],
    strategy: ['no-cache', 'QuotaExceededError'],
    broadcast: ['sw-cache:updated', 'last-modified'],
    deleteOldCaches: ['caches.delete'],
    // The notices serveUpdates keeps for late pages: a worker that only broadcasts keeps none.
    updates: ['sw-cache:skip', 'sw-cache:updates', '.shift()'],
    counters: ['sw-cache:counters', 'sw-cache:reset', '[0,0,0,0,0,0]'],
  }
  const WORKER_FEATURES: Partial<Record<keyof typeof WORKERS, (keyof typeof MARKS)[]>> = {
    strategy: ['strategy'],
    precache: ['precache'],
    range: ['range'],
    updates: ['strategy', 'updates'],
    counters: ['strategy', 'counters'],
    everything: ['strategy', 'precache', 'range', 'broadcast', 'deleteOldCaches'],
    deploys: ['strategy', 'precache', 'range', 'broadcast', 'deleteOldCaches', 'updates', 'counters'],
  }

  it.each(Object.entries(WORKER_FEATURES))(
    'a worker that imports only %s carries no other feature',
    async (worker, own = []) => {
      for (const kind of ['production', 'development'] as const) {
        const code = await bundle(worker as keyof typeof WORKERS, kind)
        for (const [feature, marks] of Object.entries(MARKS))
          for (const mark of marks)
            expect(code.includes(mark), `${worker} (${kind}) has ${mark}`).toBe(
              own.includes(feature as never),
            )
      }
    },
  )

  it('the Node-side manifest builder never enters a worker bundle', async () => {
    const code = await bundle('everything', 'development')
    for (const mark of ['createHash', 'readdir', 'buildManifest', 'node:']) expect(code).not.toContain(mark)
  })
})

describe('development and production builds', () => {
  // Text that only the development build may carry: option checks, advice and the gate itself.
  const DEVELOPMENT_ONLY = ['must be', 'Precache it', 'Lower maxEntries', 'process']

  it('production bundles carry no option checks, advice or reference to process', async () => {
    const code = await bundle('everything', 'production')
    for (const text of DEVELOPMENT_ONLY) expect(code).not.toContain(text)
    // What production messages still say: the package and the error codes.
    expect(code).toContain('[@taurobot/sw-cache]')
    expect(code).toContain('revalidation-failed')
  })

  it('development bundles carry them, folded to run unconditionally', async () => {
    const code = await bundle('everything', 'development')
    for (const text of DEVELOPMENT_ONLY.slice(0, 3)) expect(code).toContain(text)
    expect(code).not.toContain('process')
  })
})

describe('dependencies', () => {
  it('has none at run time and imports nothing from node:', async () => {
    const result = await build({
      entryPoints: [sourceEntry],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      metafile: true,
    })
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.every((path) => path.startsWith('src/') || path.includes('/src/'))).toBe(true)
    expect(inputs.some((path) => path.includes('node_modules'))).toBe(false)
  })
})
