// The service worker, bundled with esbuild when the bot starts (see assets.ts).
import {
  broadcastUpdate,
  countRequests,
  deleteOldCaches,
  type PrecacheEntry,
  precache,
  serveUpdates,
  staleWhileRevalidate,
} from '@taurobot/sw-cache'

declare const self: ServiceWorkerGlobalScope
/** The app shell: every static file with its content hash as revision, filled in at build time. */
declare const SHELL_MANIFEST: PrecacheEntry[]
/** A hash of the shell's content: a changed shell gets a new cache. */
declare const SHELL_VERSION: string

const CACHE = `taurobot-${SHELL_VERSION}`
// The page listens on this channel and offers a reload when a refreshed file differs.
const onRevalidated = broadcastUpdate({ channelName: 'taurobot' })
// A new release waits until the page's reload button asks it to take over (the page reloads once
// it does), so an open tab never runs the old page against the new worker unannounced.
serveUpdates({ channelName: 'taurobot' })
// Hits, misses and the rest, per cache: the page reads them for its debug view and for /metrics.
countRequests()

self.addEventListener('install', (event) => {
  // A shell that cannot be fully cached fails the install, so a broken release never takes over.
  // Files whose revision an earlier release already cached are copied, not downloaded.
  event.waitUntil(precache(CACHE, SHELL_MANIFEST))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(deleteOldCaches({ keep: [CACHE], prefix: 'taurobot-' }).then(() => self.clients.claim()))
})

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return
  // Conversations and voice clips are live data: they go to the network, never to the cache.
  if (url.pathname.startsWith('/api/') || url.pathname === '/sw.js') return
  event.respondWith(
    staleWhileRevalidate(event, {
      cacheName: CACHE,
      maxEntries: 60,
      fallback: '/offline.html',
      onRevalidated,
    }),
  )
})
