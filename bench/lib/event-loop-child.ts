// One store's event-loop measurement in its own process, so that every store starts from a fresh
// heap as it would in a bot: run in one process, each store would also pay for collecting the
// garbage the stores measured before it left behind.
import { readFileSync, statSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { EVENT_LOOP_MARKER, type EventLoopReport } from './event-loop-report.js'
import { openStore, type StoreKind } from './memory-stores.js'
import { chatTraffic } from './workload.js'

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`

/**
 * CPU time the main thread has run, in ms (Linux: the scheduler's own nanosecond count). Unlike
 * event-loop utilization it leaves out time the thread was busy but descheduled by other processes,
 * and unlike process.cpuUsage() it leaves out worker threads.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return undefined
  }
}

const [
  kind,
  dir,
  historyText,
  compactionRatioText,
  minSavesText,
  maxSavesText,
  wholeFileSavesText,
  minCompactionsText,
  warmupMsText,
] = process.argv.slice(2) as [StoreKind, string, string, string, string, string, string, string, string]
const history = Number(historyText)
const minSaves = Number(minSavesText)
const maxSaves = Number(maxSavesText)
const wholeFileSaves = Number(wholeFileSavesText)
const minCompactions = Number(minCompactionsText)
const warmupMs = Number(warmupMsText)
const traffic = chatTraffic(50, 400, 11)

const store = await openStore(kind, dir, {
  maxMessages: history,
  saveEvery: 5,
  ...(compactionRatioText === '-' ? {} : { compactionRatio: Number(compactionRatioText) }),
})
const ours = kind === 'ours'
let next = 0
const nextEvent = () => traffic[next++ % traffic.length] as (typeof traffic)[number]
// One "save" = the messages that end in one durable write: 1 for per-message stores, 5 otherwise.
const perSave = kind === 'python-every-message' || kind === 'lowdb' ? 1 : 5
// Warm-up, the same length of time for every store: a bot's process soon runs its hot paths as
// optimised code, but the first thousand or so saves run while V8 compiles them, on threads that
// compete with the main thread for the CPU. Those saves are measured too, and reported apart.
const warmupEnd = performance.now() + warmupMs
const warmup: number[] = []
while (performance.now() < warmupEnd || warmup.length === 0) {
  const before = performance.eventLoopUtilization()
  for (let i = 0; i < perSave; i++) await store.add(nextEvent())
  await store.flush()
  warmup.push(performance.eventLoopUtilization(before).active)
}
let inode = statSync(store.path).ino
const report: EventLoopReport = {
  busy: [],
  cpu: [],
  delayMax: 0,
  compactions: 0,
  warmupSaves: warmup.length,
  warmupMax: Math.max(...warmup),
}
const delay = monitorEventLoopDelay({ resolution: 1 })
delay.enable()
for (let save = 0; ; save++) {
  const cpu0 = mainThreadCpuMs()
  const before = performance.eventLoopUtilization()
  for (let i = 0; i < perSave; i++) await store.add(nextEvent())
  await store.flush()
  report.busy.push(performance.eventLoopUtilization(before).active)
  const cpu1 = mainThreadCpuMs()
  if (cpu0 !== undefined && cpu1 !== undefined) report.cpu.push(cpu1 - cpu0)
  if (!ours) {
    if (save + 1 >= wholeFileSaves) break
    continue
  }
  if (save % 50 === 49) {
    const ino = statSync(store.path).ino
    if (ino !== inode) {
      report.compactions += 1
      inode = ino
    }
    if ((save + 1 >= minSaves && report.compactions >= minCompactions) || save + 1 >= maxSaves) break
  }
}
delay.disable()
report.delayMax = delay.max / 1e6
await store.close()
process.stdout.write(`${EVENT_LOOP_MARKER} ${JSON.stringify(report)}\n`)
