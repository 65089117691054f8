// The service worker's cache counters: sent to the bot now and then (they end up in /metrics),
// and shown in the page's debug view with the totals of every page the bot has heard from.
import { readCounters } from '@taurobot/sw-cache/client'

type Totals = Record<string, number>

const REPORT_EVERY_MS = 60_000
// readCounters waits for an active worker; a page without one must not hang its debug view.
const WORKER_WAIT_MS = 3000

/** The counts since the last report, summed over caches; they restart at zero in the worker. */
async function takeCounts(): Promise<Totals | undefined> {
  const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, WORKER_WAIT_MS))
  const perCache = await Promise.race([readCounters(true), timeout])
  if (perCache === undefined) return undefined
  const sum: Totals = {}
  for (const counts of Object.values(perCache)) {
    for (const [name, count] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + count
  }
  return sum
}

/** Sends what the worker counted since the last report; resolves with the bot's totals. */
async function report(): Promise<Totals | undefined> {
  const counts = await takeCounts()
  const response = await fetch('/api/sw-counters', {
    method: counts ? 'POST' : 'GET',
    // The page may be closing: keepalive lets the last report outlive it.
    keepalive: true,
    ...(counts ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ counts }) } : {}),
  })
  if (!response.ok) return undefined
  return ((await response.json()) as { totals: Totals }).totals
}

function show(view: HTMLElement, totals: Totals | undefined): void {
  view.textContent =
    totals === undefined
      ? 'The counters are not available (no service worker, or the bot cannot be reached).'
      : Object.entries(totals)
          .map(([name, count]) => `${name} ${count}`)
          .join(' · ')
}

/**
 * Reports the counters every minute and when the page is hidden; opening the debug view
 * (`<details>` holding `view`) reports at once and shows the totals.
 */
export function reportCacheCounters(details: HTMLDetailsElement, view: HTMLElement): void {
  const quietly = () => report().catch(() => undefined)
  setInterval(() => void quietly(), REPORT_EVERY_MS)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') void quietly()
  })
  details.addEventListener('toggle', () => {
    if (!details.open) return
    view.textContent = 'reading…'
    void quietly().then((totals) => show(view, totals))
  })
}
