// The page side of serveUpdates() and countRequests(). Page code with a budget of 500 B min+gzip
// for watchUpdates; readCounters adds the counter names.
import type { UpdateMessage } from './broadcast.js'
import type { Counters } from './counters.js'
import { COUNTERS } from './tally.js'

// The package compiles against the worker's types; these are the few page globals used here.
declare const document: { hidden: boolean; addEventListener(type: string, listener: () => void): void }
declare const performance: { timeOrigin: number }
const reload = () => (location as unknown as { reload(): void }).reload()

/** Options of {@link watchUpdates}. */
export interface WatchUpdatesOptions {
  /**
   * Receives each update notice of `broadcastUpdate()` about content stored since this page
   * loaded, including those posted before the page listened (the worker keeps the last 20).
   */
  onUpdated?: (message: UpdateMessage) => void
  /**
   * `BroadcastChannel` of `broadcastUpdate()`.
   * @default 'sw-cache'
   */
  channelName?: string
}

/**
 * Tells the page when a new release of its service worker is waiting: `onWaiting(apply)` is called
 * once per new worker, when the page loads, when an update finishes installing, and when a hidden
 * tab becomes visible again (which checks for an update first). `apply()` asks the waiting worker
 * to take over and reloads the page once it does. A tab whose worker was replaced through another
 * tab is told too; its `apply()` then just reloads. The worker must call `serveUpdates()`. Call it
 * where `navigator.serviceWorker` exists, as for `register()` (secure contexts only).
 *
 * @example
 * ```ts
 * watchUpdates((apply) => {
 *   banner.hidden = false
 *   button.onclick = apply
 * })
 * ```
 */
export function watchUpdates(
  onWaiting: (apply: () => void) => void,
  { onUpdated, channelName = 'sw-cache' }: WatchUpdatesOptions = {},
): void {
  const container = navigator.serviceWorker
  const since = Date.now()
  let applying = false
  // Only a reload this page asked for: a controller claimed by a first install, or replaced through
  // another tab, reloads nothing (that tab was told while the worker waited; its apply() finds none
  // waiting and reloads). The reload starts a new page, which has asked for nothing: no loop.
  container.addEventListener('controllerchange', () => applying && reload())
  container.ready.then((registration) => {
    const check = () => {
      const worker = registration.waiting
      if (worker)
        onWaiting(() => {
          // Not waiting any more: another tab applied it already.
          if (worker !== registration.waiting) return reload()
          applying = true
          worker.postMessage('sw-cache:skip')
        })
    }
    // An update installing now, or found later, is told once installed.
    const watch = () => registration.installing?.addEventListener('statechange', check)
    registration.addEventListener('updatefound', watch)
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) registration.update().then(check, check)
    })
    watch()
    check()
    // Notices posted between this page's start and the channel's, which the channel did not deliver.
    if (onUpdated)
      ask<UpdateMessage[]>(registration.active, 'sw-cache:updates').then((messages) => {
        for (const message of messages)
          if (message.at >= performance.timeOrigin && message.at < since) onUpdated(message)
      })
  })
  if (onUpdated) new BroadcastChannel(channelName).onmessage = ({ data }) => onUpdated(data)
}

/**
 * Reads the counters of the worker's `countRequests()`, per cache name, from the active worker
 * (waiting for one); `reset` sets them back to zero after reading. Rejects when no worker answers
 * within `timeoutMs`: none is active, or the active one does not call `countRequests()`.
 */
export function readCounters(reset = false, timeoutMs = 5000): Promise<Counters> {
  let timer: ReturnType<typeof setTimeout> | undefined
  // A worker that never started counting never answers: say so instead of waiting forever.
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `[@taurobot/sw-cache] readCounters(): no service worker answered within ${timeoutMs} ms. The page needs an active worker that calls countRequests() at its top.`,
          ),
        ),
      timeoutMs,
    )
  })
  const answer = navigator.serviceWorker.ready.then(({ active }) =>
    ask<Record<string, number[]>>(active, reset ? 'sw-cache:reset' : 'sw-cache:counters'),
  )
  return Promise.race([answer, silence])
    .finally(() => clearTimeout(timer))
    .then((counts) => {
      const named: Counters = {}
      for (const [cacheName, values] of Object.entries(counts))
        named[cacheName] = Object.fromEntries(COUNTERS.map((name, i) => [name, values[i]])) as never
      return named
    })
}

/** Posts the message `type` to `worker` and resolves with its answer. */
function ask<T>(worker: ServiceWorker | null, type: string): Promise<T> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel()
    port1.onmessage = ({ data }) => resolve(data)
    worker?.postMessage(type, [port2])
  })
}
