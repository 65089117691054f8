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

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/** The service workers measured, the same as bench/lib/sw-sources.ts `ours-swr` and `ours-full`. */
const WORKERS = {
  strategy: `
import { staleWhileRevalidate } from '@taurobot/sw-cache'
addEventListener('fetch', (e) => e.respondWith(staleWhileRevalidate(e, { cacheName: 'app-v1' })))
`,
  everything: `
import { broadcastUpdate, deleteOldCaches, precache, staleWhileRevalidate } from '@taurobot/sw-cache'
addEventListener('install', (e) => e.waitUntil(precache('app-v1', ['/', '/index.html', '/manifest.json'])))
addEventListener('activate', (e) => e.waitUntil(deleteOldCaches({ keep: ['app-v1'] })))
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  e.respondWith(staleWhileRevalidate(e, {
    cacheName: 'app-v1', maxEntries: 100, maxAgeSeconds: 86400, fallback: '/index.html',
    onRevalidated: broadcastUpdate(),
  }))
})
`,
  precache: `
import { precache } from '@taurobot/sw-cache'
addEventListener('install', (e) => e.waitUntil(precache('app-v1', ['/'])))
`,
}

type Build = 'production' | 'development'

async function bundle(worker: keyof typeof WORKERS, kind: Build): Promise<string> {
  const result = await build({
    stdin: { contents: WORKERS[worker], loader: 'js', resolveDir: import.meta.dirname },
    alias: { '@taurobot/sw-cache': entry },
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

// The targets are 1024 B for the strategy alone and 1536 B for the whole feature set, in the
// build users ship. They are not met: what is left is code, not text (the production build carries
// no option checks and no advice), and every behaviour of the strategy comes with it whichever
// options a worker passes. These budgets are the measured sizes plus a small margin, so growth has
// to be deliberate; the README states the figures.
const BUDGET: Record<Build, { strategy: number; everything: number }> = {
  production: { strategy: 1400, everything: 2100 },
  development: { strategy: 1920, everything: 2730 },
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
      entryPoints: [entry],
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
