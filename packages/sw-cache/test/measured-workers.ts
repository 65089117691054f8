// The service workers and page code whose bundle sizes the README budgets: measured by the size
// test (test/size.test.ts) and by the bench (bench/lib/sw-sources.ts) from this one list, so the
// budget and the published figure are always about the same code.
export const MEASURED_WORKERS = {
  // The strategy alone.
  strategy: `
import { staleWhileRevalidate } from '@taurobot/sw-cache'
addEventListener('fetch', (e) => e.respondWith(staleWhileRevalidate(e, { cacheName: 'app-v1' })))
`,
  // Every feature: revisioned manifest, range requests, navigation preload, update notices.
  everything: `
import { broadcastUpdate, cachedRange, deleteOldCaches, precache, staleWhileRevalidate } from '@taurobot/sw-cache'
addEventListener('install', (e) =>
  e.waitUntil(precache('app-v1', ['/', { url: '/index.html', revision: '1' }, { url: '/app.5d41.js', integrity: 'sha256-x' }])),
)
addEventListener('activate', (e) =>
  e.waitUntil(Promise.all([deleteOldCaches({ keep: ['app-v1'] }), registration.navigationPreload.enable()])),
)
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  if (e.request.headers.has('range')) return e.respondWith(cachedRange(e.request))
  e.respondWith(staleWhileRevalidate(e, {
    cacheName: 'app-v1', maxEntries: 100, maxAgeSeconds: 86400, fallback: '/index.html',
    onRevalidated: broadcastUpdate(),
  }))
})
`,
  // The worker above plus one-reload deploys and counters.
  deploys: `
import { broadcastUpdate, cachedRange, countRequests, deleteOldCaches, precache, serveUpdates, staleWhileRevalidate } from '@taurobot/sw-cache'
serveUpdates()
countRequests()
addEventListener('install', (e) =>
  e.waitUntil(precache('app-v1', ['/', { url: '/index.html', revision: '1' }, { url: '/app.5d41.js', integrity: 'sha256-x' }])),
)
addEventListener('activate', (e) =>
  e.waitUntil(Promise.all([deleteOldCaches({ keep: ['app-v1'] }), registration.navigationPreload.enable()])),
)
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  if (e.request.headers.has('range')) return e.respondWith(cachedRange(e.request))
  e.respondWith(staleWhileRevalidate(e, {
    cacheName: 'app-v1', maxEntries: 100, maxAgeSeconds: 86400, fallback: '/index.html',
    onRevalidated: broadcastUpdate(),
  }))
})
`,
  // Page code: the update helper with replayed notices, as the bot's page uses it.
  page: `
import { watchUpdates } from '@taurobot/sw-cache/client'
watchUpdates((apply) => apply(), { onUpdated: console.log })
`,
} as const
