// The page script of the deploy tests, bundled from the package source by esbuild: registers the
// release served at /deploy-sw.js, watches for updates and records what it is told in `window.log`.
import { readCounters, watchUpdates } from '../../src/client.js'

interface PageLog {
  /** How often this tab loaded (kept across its reloads). */
  loads: number
  /** When onWaiting was last called, in ms since the epoch. */
  toldAt: number
  told: number
  updated: string[]
  apply?: () => void
}

const page = globalThis as unknown as {
  log: PageLog
  readCounters: typeof readCounters
  sessionStorage: { loads?: string }
  /** Set by a test: start watching only once the worker's background work is done. */
  localStorage: { late?: string }
}
page.sessionStorage.loads = String(Number(page.sessionStorage.loads ?? 0) + 1)
const log: PageLog = { loads: Number(page.sessionStorage.loads), toldAt: 0, told: 0, updated: [] }
page.log = log
page.readCounters = readCounters
navigator.serviceWorker.register('/deploy-sw.js')

async function start() {
  // A page that listens after the notices about its own load were posted.
  while (page.localStorage.late) {
    const stats = await (await fetch('/__stats')).json()
    if (stats.pending === 0 && stats.revalidations > 0) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  watchUpdates(
    (apply) => {
      log.told++
      log.toldAt = Date.now()
      log.apply = apply
    },
    { onUpdated: (message) => log.updated.push(new URL(message.url).pathname) },
  )
}
start()
