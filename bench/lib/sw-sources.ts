// Service-worker entry points compared by the sw-cache benches, bundled with esbuild as users would.
// The ones the README budgets come from the size test's list, so both measure the same code.
// Each uses the features it is credited with, so tree-shaking cannot drop them.
import { MEASURED_WORKERS } from '../../packages/sw-cache/test/measured-workers.js'

/** The bundles whose min+gzip size is compared. */
export const BUNDLE_ENTRIES = {
  'ours-swr': MEASURED_WORKERS.strategy,
  'ours-full': `
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
  // Everything the package offers: revisioned manifest, range requests and navigation preload too.
  'ours-all': MEASURED_WORKERS.everything,
  // Every feature plus one-reload deploys (serveUpdates) and counters (countRequests).
  'ours-deploys': MEASURED_WORKERS.deploys,
  // The page side of one-reload deploys as a page uses it, compared with workbox-window's recipe
  // below: told when a release waits, a button's click applies it and reloads once.
  'ours-client': `
import { watchUpdates } from '@taurobot/sw-cache/client'
watchUpdates((apply) => { document.querySelector('#update').onclick = apply }, { onUpdated: console.log })
`,
  // The helper itself, as packages/sw-cache/test/size.test.ts measures it for its 500 B budget: every
  // line of it kept, and no page code of its own beyond the call.
  'ours-client-alone': MEASURED_WORKERS.page,
  // Workbox's recipe for the same: workbox-window in the page, a SKIP_WAITING message in the worker.
  'workbox-window': `
import { Workbox } from 'workbox-window'
const wb = new Workbox('/sw.js')
wb.addEventListener('waiting', () => {
  document.querySelector('#update').onclick = () => {
    wb.addEventListener('controlling', () => location.reload())
    wb.messageSkipWaiting()
  }
})
wb.addEventListener('message', (event) => console.log(event.data))
wb.register()
`,
  'workbox-swr': `
import { StaleWhileRevalidate } from 'workbox-strategies'
const strategy = new StaleWhileRevalidate({ cacheName: 'app-v1' })
addEventListener('fetch', (e) => e.respondWith(strategy.handle({ event: e, request: e.request })))
`,
  'workbox-features': `
import { StaleWhileRevalidate } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import { CacheableResponsePlugin } from 'workbox-cacheable-response'
import { BroadcastUpdatePlugin } from 'workbox-broadcast-update'
const strategy = new StaleWhileRevalidate({
  cacheName: 'app-v1',
  plugins: [
    new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 86400 }),
    new CacheableResponsePlugin({ statuses: [200] }),
    new BroadcastUpdatePlugin(),
  ],
})
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  e.respondWith(strategy.handle({ event: e, request: e.request }))
})
`,
  'workbox-full': `
import { StaleWhileRevalidate } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import { CacheableResponsePlugin } from 'workbox-cacheable-response'
import { BroadcastUpdatePlugin } from 'workbox-broadcast-update'
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching'
precacheAndRoute([{ url: '/', revision: '1' }, { url: '/index.html', revision: '1' }, { url: '/manifest.json', revision: '1' }])
cleanupOutdatedCaches()
const strategy = new StaleWhileRevalidate({
  cacheName: 'app-v1',
  plugins: [
    new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 86400 }),
    new CacheableResponsePlugin({ statuses: [200] }),
    new BroadcastUpdatePlugin(),
  ],
})
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  e.respondWith(strategy.handle({ event: e, request: e.request }).catch(async () => {
    if (e.request.mode === 'navigate') return (await matchPrecache('/index.html')) ?? Response.error()
    return Response.error()
  }))
})
`,
  'workbox-deploys': `
import { StaleWhileRevalidate } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import { CacheableResponsePlugin } from 'workbox-cacheable-response'
import { BroadcastUpdatePlugin } from 'workbox-broadcast-update'
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching'
precacheAndRoute([{ url: '/', revision: '1' }, { url: '/index.html', revision: '1' }, { url: '/manifest.json', revision: '1' }])
cleanupOutdatedCaches()
const strategy = new StaleWhileRevalidate({
  cacheName: 'app-v1',
  plugins: [
    new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 86400 }),
    new CacheableResponsePlugin({ statuses: [200] }),
    new BroadcastUpdatePlugin(),
  ],
})
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  e.respondWith(strategy.handle({ event: e, request: e.request }).catch(async () => {
    if (e.request.mode === 'navigate') return (await matchPrecache('/index.html')) ?? Response.error()
    return Response.error()
  }))
})
addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting()
})
`,
  'serwist-swr': `
import { StaleWhileRevalidate } from 'serwist'
const strategy = new StaleWhileRevalidate({ cacheName: 'app-v1' })
addEventListener('fetch', (e) => e.respondWith(strategy.handle({ event: e, request: e.request })))
`,
  'serwist-features': `
import { BroadcastUpdatePlugin, CacheableResponsePlugin, ExpirationPlugin, StaleWhileRevalidate } from 'serwist'
const strategy = new StaleWhileRevalidate({
  cacheName: 'app-v1',
  plugins: [
    new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 86400 }),
    new CacheableResponsePlugin({ statuses: [200] }),
    new BroadcastUpdatePlugin(),
  ],
})
addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET') return
  e.respondWith(strategy.handle({ event: e, request: e.request }))
})
`,
  'serwist-full': `
import { BroadcastUpdatePlugin, CacheableResponsePlugin, ExpirationPlugin, Serwist, StaleWhileRevalidate } from 'serwist'
const serwist = new Serwist({
  precacheEntries: [{ url: '/', revision: '1' }, { url: '/index.html', revision: '1' }, { url: '/manifest.json', revision: '1' }],
  cleanupOutdatedCaches: true,
  runtimeCaching: [{
    matcher: ({ request }) => request.method === 'GET',
    handler: new StaleWhileRevalidate({
      cacheName: 'app-v1',
      plugins: [
        new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 86400 }),
        new CacheableResponsePlugin({ statuses: [200] }),
        new BroadcastUpdatePlugin(),
      ],
    }),
  }],
  fallbacks: { entries: [{ url: '/index.html', matcher: ({ request }) => request.mode === 'navigate' }] },
})
serwist.addEventListeners()
`,
} as const

/** Makes a page controlled at once, so the first measured request already goes through the worker. */
const CLAIM = `
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()))
`

/** The workers served to Chromium, each on its own origin; all handle only /asset/ requests. */
export const BROWSER_WORKERS = {
  ours: `
import { staleWhileRevalidate } from '@taurobot/sw-cache'
${CLAIM}
self.addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET' || !new URL(e.request.url).pathname.startsWith('/asset/')) return
  e.respondWith(staleWhileRevalidate(e, { cacheName: 'bench-v1', maxEntries: 100 }))
})
`,
  workbox: `
import { StaleWhileRevalidate } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
${CLAIM}
const strategy = new StaleWhileRevalidate({ cacheName: 'bench-v1', plugins: [new ExpirationPlugin({ maxEntries: 100 })] })
self.addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET' || !new URL(e.request.url).pathname.startsWith('/asset/')) return
  e.respondWith(strategy.handle({ event: e, request: e.request }))
})
`,
  // The bot's original worker: precache on install, delete other caches on activate, cache-first.
  'cache-first': `
const CACHE = 'taurobot-v1'
const PRECACHE = self.PRECACHE_URLS
self.addEventListener('install', (e) => {
  self.skipWaiting()
  e.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)))
})
self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  )
})
self.addEventListener('fetch', (e) => {
  if (e.request.method !== 'GET' || !new URL(e.request.url).pathname.startsWith('/asset/')) return
  e.respondWith(caches.match(e.request).then((cached) => cached || fetch(e.request)))
})
`,
} as const

/** Activates at once and takes the open pages, so an update is measured up to its activation. */
const TAKE_OVER = `
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()))
`

/** Serves /app/ files from the precache of this release, falling back to the network. */
const SERVE_PRECACHED = `
self.addEventListener('fetch', (e) => {
  if (!new URL(e.request.url).pathname.startsWith('/app/')) return
  e.respondWith(caches.open(cacheName).then((cache) => cache.match(e.request)).then((r) => r || fetch(e.request)))
})
`

/**
 * The workers of the update bench. The origin prepends `self.MANIFEST` (every file with a content
 * hash as revision, as a build would inject it) and `self.RELEASE`.
 */
export const UPDATE_WORKERS = {
  ours: `
import { deleteOldCaches, precache } from '@taurobot/sw-cache'
${TAKE_OVER}
const cacheName = 'app-' + self.RELEASE
self.addEventListener('install', (e) => e.waitUntil(precache(cacheName, self.MANIFEST)))
self.addEventListener('activate', (e) => e.waitUntil(deleteOldCaches({ keep: [cacheName] })))
${SERVE_PRECACHED}
`,
  versioned: `
import { deleteOldCaches, precache } from '@taurobot/sw-cache'
${TAKE_OVER}
const cacheName = 'app-' + self.RELEASE
self.addEventListener('install', (e) => e.waitUntil(precache(cacheName, self.MANIFEST.map((entry) => entry.url))))
self.addEventListener('activate', (e) => e.waitUntil(deleteOldCaches({ keep: [cacheName] })))
${SERVE_PRECACHED}
`,
  'workbox-revisions': `
import { cleanupOutdatedCaches, precacheAndRoute } from 'workbox-precaching'
${TAKE_OVER}
cleanupOutdatedCaches()
precacheAndRoute(self.MANIFEST)
`,
  'workbox-no-revisions': `
import { cleanupOutdatedCaches, precacheAndRoute } from 'workbox-precaching'
${TAKE_OVER}
cleanupOutdatedCaches()
precacheAndRoute(self.MANIFEST.map((entry) => entry.url))
`,
} as const
