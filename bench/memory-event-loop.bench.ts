import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { runChild } from './lib/child.js'
import { EVENT_LOOP_MARKER, type EventLoopReport } from './lib/event-loop-report.js'
import { formatBytes } from './lib/format.js'
import { legacyFile, STORE_LABELS, type StoreKind } from './lib/memory-stores.js'
import { row } from './lib/result.js'
import { spreadText, summarize } from './lib/stats.js'
import { chatTraffic } from './lib/workload.js'

type Kind = StoreKind | 'ours-frequent'
const KINDS: Kind[] = ['python-every-message', 'ours', 'ours-frequent', 'python-every-5', 'lowdb']
const FREQUENT_LABEL = '@taurobot/memory, compactionRatio 0.1'
const USERS = 50
const HISTORY = 1000
await runBench(fileURLToPath(import.meta.url), {
  title: 'event-loop time per save with 50 × 1000 messages of history',
  claim:
    'With 50 conversations of 1000 messages, a @taurobot/memory save (compaction included) keeps the event loop busy p99 ≤ 0.5 ms and max ≤ 5 ms; whole-file stores block it for the whole JSON.stringify of the store.',
  notCovered: [
    'Time spent off the main thread (libuv pool, worker threads): it does not block the bot, so it is not counted here.',
    'Opening the store (loading 50,000 messages) and close().',
    'Whole-file stores are sampled over fewer saves (every one of their saves costs the same).',
  ],
  async run(ctx) {
    const fileText = legacyFile(chatTraffic(USERS, HISTORY, 3))
    const minSaves = ctx.quick ? 400 : 2_000
    const maxSaves = ctx.quick ? 4_000 : 30_000
    const wholeFileSaves = ctx.quick ? 6 : 20
    const warmupMs = ctx.quick ? 500 : 3_000
    const busy: Record<Kind, number[]> = {
      ours: [],
      'ours-frequent': [],
      'python-every-message': [],
      'python-every-5': [],
      lowdb: [],
    }
    const cpu: Record<Kind, number[]> = {
      ours: [],
      'ours-frequent': [],
      'python-every-message': [],
      'python-every-5': [],
      lowdb: [],
    }
    const delayMax: Record<Kind, number> = {
      ours: 0,
      'ours-frequent': 0,
      'python-every-message': 0,
      'python-every-5': 0,
      lowdb: 0,
    }
    const notes: string[] = []
    for (const kind of KINDS) {
      const dir = join(ctx.tmpDir, kind)
      mkdirSync(dir)
      writeFileSync(join(dir, 'conversations.json'), fileText)
      const ours = kind === 'ours' || kind === 'ours-frequent'
      // The second configuration compacts every ~1 MB of journal: many compactions in the window.
      const { report } = await runChild<EventLoopReport>(
        'event-loop-child.ts',
        [
          ours ? 'ours' : kind,
          dir,
          String(HISTORY),
          kind === 'ours-frequent' ? '0.1' : '-',
          String(minSaves),
          String(maxSaves),
          String(wholeFileSaves),
          kind === 'ours-frequent' ? '3' : '1',
          String(warmupMs),
        ],
        EVENT_LOOP_MARKER,
        60_000,
      )
      busy[kind] = report.busy
      cpu[kind] = report.cpu
      delayMax[kind] = report.delayMax
      const s = summarize(report.busy)
      const c = summarize(report.cpu)
      ctx.log(
        `${kind}: ${report.busy.length} saves, p50 ${s.median.toFixed(2)} ms, p99 ${s.p99.toFixed(2)}, max ${s.max.toFixed(1)}; main-thread CPU p50 ${c.median.toFixed(2)}, p99 ${c.p99.toFixed(2)}, max ${c.max.toFixed(1)}; warm-up ${report.warmupSaves} saves, max ${report.warmupMax.toFixed(1)}`,
      )
      if (ours) {
        const { compactions } = report
        notes.push(
          `${kind === 'ours' ? '@taurobot/memory (default settings)' : FREQUENT_LABEL}: ${report.busy.length.toLocaleString('en-US')} saves of 5 messages, ${compactions} snapshot rewrite${compactions === 1 ? '' : 's'} (compactions) inside the window${compactions === 0 ? ' — none happened before the cap, so compaction is not included' : ''}. Before the window, ${report.warmupSaves.toLocaleString('en-US')} warm-up saves: max ${report.warmupMax.toFixed(2)} ms.`,
        )
      }
    }
    const stat = (k: Kind, f: 'median' | 'p99' | 'max') => summarize(busy[k])[f]
    const cpuStat = (k: Kind, f: 'median' | 'p99' | 'max') =>
      cpu[k].length === 0 ? null : summarize(cpu[k])[f]
    const cpuRow = (f: 'median' | 'p99' | 'max', label: string) =>
      row({
        operation: `main-thread CPU time per save, ${label}`,
        unit: 'ms',
        better: 'lower',
        before: cpuStat('python-every-message', f),
        after: cpuStat('ours', f),
        peers: {
          [FREQUENT_LABEL]: cpuStat('ours-frequent', f),
          [STORE_LABELS['python-every-5']]: cpuStat('python-every-5', f),
          [STORE_LABELS.lowdb]: cpuStat('lowdb', f),
        },
      })
    const mk = (f: 'median' | 'p99' | 'max', label: string, target?: number) =>
      row({
        operation: `event-loop time per save, ${label}`,
        unit: 'ms',
        better: 'lower',
        before: stat('python-every-message', f),
        after: stat('ours', f),
        peers: {
          [FREQUENT_LABEL]: stat('ours-frequent', f),
          [STORE_LABELS['python-every-5']]: stat('python-every-5', f),
          [STORE_LABELS.lowdb]: stat('lowdb', f),
        },
        ...(f === 'median' ? { spread: spreadText(busy.ours, 'saves') } : {}),
        ...(target === undefined ? {} : { target: { op: '<=' as const, value: target } }),
      })
    notes.push(
      cpu.ours.length === 0
        ? 'Main-thread CPU time per save needs Linux (/proc/<pid>/task/<tid>/schedstat); not measured here.'
        : "Main-thread CPU time per save: the scheduler's run time of the main thread around each save (Linux schedstat, read outside the utilization window), so it leaves out time the thread was busy but descheduled by other processes on a loaded machine, which event-loop utilization counts; worker threads are not included.",
    )
    notes.unshift(
      `${USERS} conversations × ${HISTORY} messages (${formatBytes(Buffer.byteLength(fileText))} as indent-2 JSON), each save measured with performance.eventLoopUtilization() around the awaited adds and flush (the time the main thread was busy, synchronous and asynchronous parts alike). Each store runs in a fresh process and first handles ${warmupMs / 1000} s of the same traffic unmeasured (warm-up: V8 compiles the hot paths on helper threads that take turns with the main thread on the CPU; the warm-up max is noted below). Whole-file stores: ${wholeFileSaves} saves each.`,
    )
    return {
      rows: [
        mk('median', 'p50'),
        mk('p99', 'p99', 0.5),
        mk('max', 'max', 5),
        cpuRow('median', 'p50'),
        cpuRow('p99', 'p99'),
        cpuRow('max', 'max'),
        row({
          operation: 'event-loop delay max during the run',
          unit: 'ms',
          better: 'lower',
          before: delayMax['python-every-message'],
          after: delayMax.ours,
          peers: {
            [FREQUENT_LABEL]: delayMax['ours-frequent'],
            [STORE_LABELS['python-every-5']]: delayMax['python-every-5'],
            [STORE_LABELS.lowdb]: delayMax.lowdb,
          },
        }),
      ],
      notes,
    }
  },
})
