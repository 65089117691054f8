import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { launchChromium } from './lib/chromium.js'
import { bundle } from './lib/esbuild-size.js'
import { chromiumReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { UPDATE_WORKERS } from './lib/sw-sources.js'

type Variant = keyof typeof UPDATE_WORKERS
const LABELS: Record<Variant, string> = {
  ours: '@taurobot/sw-cache, revisioned manifest',
  versioned: 'versioned cache name, plain URLs',
  'workbox-revisions': 'Workbox precaching with revisions',
  'workbox-no-revisions': 'Workbox precaching without revisions',
}
const FILES = 20
const FILE_BYTES = 16 * 1024
const CHANGED = 7

/** One site per variant: 20 precached files, counted in bytes and requests by the origin. */
async function startSite(worker: string) {
  const files = new Map<string, Buffer>()
  for (let i = 0; i < FILES; i++) files.set(`/app/f${i}.js`, fileBody(i, 1))
  const served = { bytes: 0, requests: 0 }
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
      return response.end('<!doctype html><title>update bench</title>')
    }
    if (url.pathname === '/sw.js') {
      // The manifest of the files as they are now, as a build would inject it.
      const manifest = [...files].map(([path, body]) => ({
        url: path,
        revision: createHash('sha256').update(body).digest('hex').slice(0, 20),
      }))
      response.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      return response.end(
        `self.MANIFEST = ${JSON.stringify(manifest)}; self.RELEASE = ${JSON.stringify(url.searchParams.get('release'))};\n${worker}`,
      )
    }
    const body = files.get(url.pathname)
    if (!body) {
      response.writeHead(404)
      return response.end()
    }
    served.bytes += body.length
    served.requests++
    response.writeHead(200, { 'content-type': 'text/javascript', 'content-length': body.length })
    response.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Page and worker of the notice measurement: the page is told when a new release waits. */
const NOTICE = {
  ours: {
    page: `import { watchUpdates } from '@taurobot/sw-cache/client'
navigator.serviceWorker.register('/sw.js')
watchUpdates(() => { self.toldAt = performance.timeOrigin + performance.now() })`,
    worker: `import { serveUpdates } from '@taurobot/sw-cache'
serveUpdates()`,
  },
}

/**
 * Median times, in ms, from the new worker being installed, and from the update check that found
 * it, to the visible page being told; each sample deploys a new release of the worker.
 */
async function noticeTimes(
  context: Awaited<ReturnType<typeof launchChromium>>,
  variant: keyof typeof NOTICE,
  samples: number,
) {
  const dir = import.meta.dirname
  const pageCode = await bundle(NOTICE[variant].page, dir)
  const workerCode = await bundle(NOTICE[variant].worker, dir)
  let release = 1
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname
    const [type, body] =
      path === '/sw.js'
        ? ['text/javascript', `// release ${release}\n${workerCode}`]
        : path === '/page.js'
          ? ['text/javascript', pageCode]
          : ['text/html', '<!doctype html><title>notice bench</title><script src="/page.js"></script>']
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
    response.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const page = await context.newPage()
  const installed: number[] = []
  const checked: number[] = []
  try {
    // A fresh registration per sample: each measures the first update after a page load.
    for (let i = 0; i < samples; i++) {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await page.evaluate('navigator.serviceWorker.ready')
      release++
      // A string, as this file compiles without the DOM's types.
      const [fromInstalled, fromCheck] = (await page.evaluate(`(async () => {
        self.toldAt = 0
        const now = () => performance.timeOrigin + performance.now()
        const registration = await navigator.serviceWorker.ready
        let installedAt = 0
        registration.addEventListener('updatefound', () => {
          const worker = registration.installing
          worker.addEventListener('statechange', () => {
            if (worker.state === 'installed') installedAt = now()
          })
        }, { once: true })
        const checkedAt = now()
        await registration.update()
        const deadline = now() + 10000
        while ((!self.toldAt || !installedAt) && now() < deadline) await new Promise((r) => setTimeout(r, 2))
        if (!self.toldAt || !installedAt) throw new Error('no notice within 10 s')
        return [Math.max(0, self.toldAt - installedAt), self.toldAt - checkedAt]
      })()`)) as [number, number]
      installed.push(fromInstalled)
      checked.push(fromCheck)
      await page.evaluate(
        'navigator.serviceWorker.getRegistrations().then((all) => Promise.all(all.map((r) => r.unregister())))',
      )
      await page.goto('about:blank')
    }
  } finally {
    await page.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? null
  return { installed: median(installed), checked: median(checked) }
}

function fileBody(index: number, release: number): Buffer {
  const line = `// file ${index}, release ${release}\n`
  return Buffer.from(line.repeat(Math.ceil(FILE_BYTES / line.length)).slice(0, FILE_BYTES))
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'service-worker update: bytes downloaded when 1 of 20 precached files changes',
  claim:
    'With a revisioned manifest an update downloads only the changed file (target: that file’s bytes), where a versioned cache name downloads the whole shell.',
  ready: chromiumReady,
  notCovered: [
    'Other browsers; HTTP compression (the files are served uncompressed, so bytes are body bytes).',
    'The service worker script itself, fetched by the browser on every update whatever the strategy.',
  ],
  async run(ctx) {
    const dir = import.meta.dirname
    const context = await launchChromium(ctx.tmpDir)
    const bytes = {} as Record<Variant, number>
    const requests = {} as Record<Variant, number>
    const stale = {} as Record<Variant, number>
    let notice: Record<keyof typeof NOTICE, { installed: number | null; checked: number | null }>
    try {
      const samples = ctx.quick ? 5 : 15
      notice = { ours: await noticeTimes(context, 'ours', samples) }
      for (const variant of Object.keys(UPDATE_WORKERS) as Variant[]) {
        const site = await startSite(await bundle(UPDATE_WORKERS[variant], dir))
        const page = await context.newPage()
        try {
          await page.goto(`${site.url}/`)
          // A string, as this file compiles without the DOM's types.
          const install = (release: number) =>
            page.evaluate(`(async () => {
              const registration = await navigator.serviceWorker.register('/sw.js?release=${release}')
              const worker = registration.installing ?? registration.waiting ?? registration.active
              while (worker && worker.state !== 'activated' && worker.state !== 'redundant')
                await new Promise((resolve) => worker.addEventListener('statechange', resolve, { once: true }))
              return worker?.state
            })()`)
          if ((await install(1)) !== 'activated') throw new Error(`${variant}: release 1 did not activate`)
          const before = { ...site.served }
          site.files.set(`/app/f${CHANGED}.js`, fileBody(CHANGED, 2))
          if ((await install(2)) !== 'activated') throw new Error(`${variant}: release 2 did not activate`)
          bytes[variant] = site.served.bytes - before.bytes
          requests[variant] = site.served.requests - before.requests
          // What the new worker serves for each file, against what the origin now has.
          const bodies = (await page.evaluate(
            (paths) => Promise.all(paths.map((path) => fetch(path).then((response) => response.text()))),
            [...site.files.keys()],
          )) as string[]
          stale[variant] = [...site.files.values()].filter((body, i) => body.toString() !== bodies[i]).length
        } finally {
          await page.close()
          await site.close()
        }
      }
    } finally {
      await context.close()
    }
    const peers = (of: Record<Variant, number>) => ({
      [LABELS['workbox-revisions']]: of['workbox-revisions'],
      [LABELS['workbox-no-revisions']]: of['workbox-no-revisions'],
    })
    return {
      rows: [
        row({
          operation: `bytes downloaded by an update changing 1 of ${FILES} precached files`,
          unit: 'B',
          better: 'lower',
          before: bytes.versioned,
          after: bytes.ours,
          peers: peers(bytes),
          target: { op: '<=', value: FILE_BYTES },
        }),
        row({
          operation: 'origin requests for precached files during that update',
          unit: 'count',
          better: 'lower',
          before: requests.versioned,
          after: requests.ours,
          peers: peers(requests),
          target: { op: '==', value: 1 },
        }),
        row({
          operation: 'files served stale by the new worker after the update',
          unit: 'count',
          better: 'lower',
          before: stale.versioned,
          after: stale.ours,
          peers: peers(stale),
          target: { op: '==', value: 0 },
        }),
        row({
          operation: 'new worker installed → visible tab told (watchUpdates), median',
          unit: 'ms',
          better: 'lower',
          after: notice.ours.installed,
          peers: {},
          target: { op: '<=', value: 1000 },
        }),
        row({
          operation: 'update check of a shown tab → tab told, one small release, median',
          unit: 'ms',
          better: 'lower',
          after: notice.ours.checked,
          peers: {},
          target: { op: '<=', value: 1000 },
        }),
      ],
      notes: [
        `Debian Chromium (headless), one origin per variant on 127.0.0.1 serving ${FILES} files of ${FILE_BYTES / 1024} KiB, uncompressed; release 2 changes file ${CHANGED}. Bytes and requests are counted by the origin from the moment release 1 is active until release 2 is; the worker script is not counted.`,
        '"before" is the same worker with precache() given plain URLs and a cache name per release (the way the original worker and most hand-written ones update). Workbox without revisions keys its precache by URL alone: an unchanged URL counts as already cached, which is why it downloads nothing and serves the changed file stale.',
        'Notice rows: a page on 127.0.0.1 whose worker script changes before each sample; the page calls registration.update() (what watchUpdates does when a hidden tab is shown again) and the time until the page is told is measured in the page. The worker installs nothing, so the second row is the browser fetching and installing the script plus the helper. The first row is 0 when the helper reacts in the same statechange event as the measurement. No Workbox figure: with workbox-window 7.4.1 the page got no "waiting" event within 10 s for an update found by registration.update() after its register(), in this setup.',
        'Stale files: each of the 20 URLs is fetched from the page once release 2 controls it and compared with what the origin now serves.',
      ],
    }
  },
})
