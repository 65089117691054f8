import { answer } from './answer.js'
import type { UpdateMessage } from './broadcast.js'
import { checkChannelName } from './development.js'

/** Options of {@link serveUpdates}. */
export interface ServeUpdatesOptions {
  /**
   * `BroadcastChannel` whose update notices are kept for pages that listen late: the one given to
   * `broadcastUpdate()` and to the page's `watchUpdates()`.
   * @default 'sw-cache'
   */
  channelName?: string
}

/**
 * The worker side of `watchUpdates()` from `@taurobot/sw-cache/client`: a waiting worker takes over
 * when a page asks it to (`skipWaiting()`), and a page that loads can ask for the last 20 update
 * notices `broadcastUpdate()` posted before it listened. Call it once, at the top of the worker;
 * install the new release without calling `skipWaiting()` yourself, so that it waits until a page
 * asks.
 *
 * @example
 * ```ts
 * serveUpdates()
 * addEventListener('install', (e) => e.waitUntil(precache(cacheName, manifest)))
 * ```
 */
export function serveUpdates({ channelName = 'sw-cache' }: ServeUpdatesOptions = {}): void {
  checkChannelName(channelName)
  // The notices are kept here, read back from the channel (it delivers each message to every other
  // channel object of its name, this worker's own included), rather than by broadcastUpdate: a
  // worker that does not call serveUpdates keeps none and carries none of this code.
  const recent: UpdateMessage[] = []
  new BroadcastChannel(channelName).onmessage = ({ data }) => recent.push(data) > 20 && recent.shift()
  answer('sw-cache:skip', () => (self as unknown as ServiceWorkerGlobalScope).skipWaiting())
  answer('sw-cache:updates', () => recent)
}
