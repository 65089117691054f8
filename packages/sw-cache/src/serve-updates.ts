import { recent } from './broadcast.js'

/**
 * The worker side of `watchUpdates()` from `@taurobot/sw-cache/client`: a waiting worker takes over
 * when a page asks it to (`skipWaiting()`), and a page that loads can ask for the update notices
 * `broadcastUpdate()` posted before it listened. Call it once, at the top of the worker; install
 * the new release without calling `skipWaiting()` yourself, so that it waits until a page asks.
 *
 * @example
 * ```ts
 * serveUpdates()
 * addEventListener('install', (e) => e.waitUntil(precache(cacheName, manifest)))
 * ```
 */
export function serveUpdates(): void {
  addEventListener('message', (event) => {
    const { data, ports } = event as MessageEvent
    if (data === 'sw-cache:skip-waiting') (self as unknown as ServiceWorkerGlobalScope).skipWaiting()
    if (data === 'sw-cache:updates') ports[0]?.postMessage(recent)
  })
}
