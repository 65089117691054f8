import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A fixture origin on 127.0.0.1: one page, one optional service worker, and counted /asset/ URLs. */
export interface Origin {
  readonly url: string
  /** Requests received per path (e.g. "/asset/hit-0"). */
  readonly counts: Map<string, number>
  close(): Promise<void>
}

const ASSET_BODY = JSON.stringify({
  items: Array.from({ length: 24 }, (_, i) => ({ id: i, title: `Messaggio numero ${i}`, done: i % 3 === 0 })),
})

const PAGE = (hasWorker: boolean) => `<!doctype html>
<meta charset="utf-8"><title>sw bench</title>
<script>
window.swReady = (async () => {
  if (!${hasWorker}) return true
  await navigator.serviceWorker.register('/sw.js')
  await navigator.serviceWorker.ready
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }))
  }
  return true
})()
window.timeFetches = async (url, n) => {
  const times = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    const r = await fetch(url)
    await r.arrayBuffer()
    times.push(performance.now() - t)
  }
  return times
}
window.burst = async (url, n) => {
  const t = performance.now()
  const statuses = await Promise.all(Array.from({ length: n }, () => fetch(url).then(async (r) => { await r.arrayBuffer(); return r.status })))
  return { ms: performance.now() - t, ok: statuses.filter((s) => s === 200).length }
}
</script>`

/**
 * Starts an origin. `worker` is the bundled service-worker code, or null for a page without one.
 * Every /asset/ response waits `delayMs`, like an origin some distance away, and carries no
 * Cache-Control, so a stale-while-revalidate worker revalidates on every hit.
 */
export async function startOrigin(worker: string | null, delayMs: number): Promise<Origin> {
  const counts = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(PAGE(worker !== null))
      return
    }
    if (path === '/sw.js' && worker !== null) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      res.end(worker)
      return
    }
    if (path.startsWith('/asset/')) {
      counts.set(path, (counts.get(path) ?? 0) + 1)
      setTimeout(() => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(ASSET_BODY),
        })
        res.end(ASSET_BODY)
      }, delayMs)
      return
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
