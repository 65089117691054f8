// The service worker of the browser tests, bundled from the package source by esbuild. Its options
// come from its own URL (`/sw.js?config=...`), so each test registers the variant it needs and a
// new config is a new version of the worker.
import {
  broadcastUpdate,
  cachedRange,
  countRequests,
  deleteOldCaches,
  type PrecacheEntry,
  precache,
  serveUpdates,
  staleWhileRevalidate,
} from '../../src/index.js'

declare const self: ServiceWorkerGlobalScope

export interface FixtureConfig {
  version?: string
  precache?: (string | PrecacheEntry)[]
  /** Enables navigation preload on activate (and disables it when false). */
  preload?: boolean
  /** Runtime entries go to their own `runtime-<version>` cache instead of the precache one. */
  runtime?: boolean
  maxEntries?: number
  /** A new release waits until a page asks it to take over (serveUpdates), as deploys do. */
  waits?: boolean
  /** False: the worker does not call countRequests(), so no page read of counters is answered. */
  counters?: boolean
}

export interface FixtureStats {
  /** Background tasks (waitUntil) not settled yet. */
  pending: number
  unhandled: number
  /** What the unhandled rejections were, to make a failure readable. */
  reasons: string[]
  errors: string[]
  /** Their messages, in the same order. */
  messages: string[]
  /** What a bad option did at start-up: the error in development builds, nothing in production. */
  checks: string
  revalidations: number
  deleted: string[]
  /** Range requests answered: their Range header and the status. */
  ranges: string[]
}

// A release served under a fixed URL (a deploy) carries its config in FIXTURE, defined before this code.
const config: FixtureConfig = JSON.parse(
  new URL(self.location.href).searchParams.get('config') ??
    (self as unknown as { FIXTURE?: string }).FIXTURE ??
    '{}',
)
const version = config.version ?? 'v1'
const appCache = `app-${version}`
const cacheName = config.runtime ? `runtime-${version}` : appCache
const stats: FixtureStats = {
  pending: 0,
  unhandled: 0,
  reasons: [],
  errors: [],
  messages: [],
  checks: '',
  revalidations: 0,
  deleted: [],
  ranges: [],
}
try {
  broadcastUpdate({ channelName: '' })
} catch (error) {
  stats.checks = String(error)
}
const notify = broadcastUpdate()
serveUpdates()
if (config.counters !== false) countRequests()

self.addEventListener('unhandledrejection', (event) => {
  stats.unhandled++
  stats.reasons.push(String(event.reason?.stack ?? event.reason))
})

self.addEventListener('install', (event) => {
  event.waitUntil(
    precache(appCache, config.precache ?? ['/', '/index.html']).then(() => {
      if (!config.waits) return self.skipWaiting()
    }),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    deleteOldCaches({ keep: [appCache, `runtime-${version}`] })
      .then(async (deleted) => {
        if (config.preload !== undefined)
          await self.registration.navigationPreload[config.preload ? 'enable' : 'disable']()
        return deleted
      })
      .then((deleted) => stats.deleted.push(...deleted))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/__stats') {
    event.respondWith(new Response(JSON.stringify(stats)))
    return
  }
  if (event.request.method !== 'GET') return
  if (event.request.headers.has('range')) {
    const range = event.request.headers.get('range')
    event.respondWith(
      cachedRange(event.request).then((response) => {
        stats.ranges.push(`${range} ${response.status}`)
        return response
      }),
    )
    return
  }
  // Any object with request and waitUntil will do; this one counts unsettled background work.
  const counted = {
    request: event.request,
    preloadResponse: event.preloadResponse,
    waitUntil(promise: Promise<unknown>) {
      stats.pending++
      event.waitUntil(promise.finally(() => stats.pending--))
    },
  }
  event.respondWith(
    staleWhileRevalidate(counted, {
      cacheName,
      fallback: '/index.html',
      ...(config.maxEntries ? { maxEntries: config.maxEntries } : {}),
      onError: (error) => {
        stats.errors.push(error.code)
        stats.messages.push(error.message)
      },
      onRevalidated: async (revalidation) => {
        await notify(revalidation)
        stats.revalidations++
      },
    }),
  )
})
