import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import {
  type BenchStore,
  fileBackendReady,
  legacyFile,
  openStore,
  STORE_LABELS,
} from './lib/memory-stores.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'
import { type ChatEvent, chatTraffic } from './lib/workload.js'

type Kind = 'ours' | 'python-every-message' | 'lowdb'
const KINDS: Kind[] = ['python-every-message', 'ours', 'lowdb']
const USERS = 50

await runBench(fileURLToPath(import.meta.url), {
  title: 'strict durability throughput',
  claim:
    'In strict mode (add() resolves once the message is on disk) @taurobot/memory sustains ≥ 4,000 messages/s one at a time and ≥ 100,000 messages/s with 50 concurrent writers (group commit: one fdatasync per batch).',
  requires: [{ module: '@taurobot/memory', export: 'openMemory' }],
  ready: (ctx) => fileBackendReady(ctx.tmpDir),
  notCovered: [
    'lowdb does not fsync: its acknowledgements are not durable, it is shown only as the throughput users would get from it.',
    'Batched mode (add() resolves before the write): see memory-burst.',
    'Disks with a volatile write cache that lies about fsync.',
  ],
  async run(ctx) {
    const fileText = legacyFile(chatTraffic(USERS, 100, 5))
    const traffic = chatTraffic(USERS, 2_000, 13)
    const reps = ctx.quick ? 3 : 5
    const windowMs = ctx.quick ? 500 : 1_200
    const stores = {} as Record<Kind, BenchStore>
    for (const kind of KINDS) {
      const dir = join(ctx.tmpDir, kind)
      mkdirSync(dir)
      writeFileSync(join(dir, 'conversations.json'), fileText)
      stores[kind] = await openStore(kind, dir, { maxMessages: 1000, durability: 'strict' })
    }
    const rates = {
      1: { ours: [], 'python-every-message': [], lowdb: [] } as Record<Kind, number[]>,
      50: { ours: [], 'python-every-message': [], lowdb: [] } as Record<Kind, number[]>,
    }
    let next = 0
    const nextEvent = (): ChatEvent => traffic[next++ % traffic.length] as ChatEvent
    // Repetitions alternate between stores, so a noisy neighbour hurts all of them alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const writers of [1, 50] as const) {
        for (const kind of KINDS) {
          const store = stores[kind]
          let acked = 0
          let stop = false
          const t0 = performance.now()
          const deadline = t0 + windowMs
          const timer = setTimeout(() => {
            stop = true
          }, windowMs)
          await Promise.all(
            Array.from({ length: writers }, async () => {
              while (!stop && performance.now() < deadline) {
                await store.add(nextEvent())
                acked += 1
              }
            }),
          )
          clearTimeout(timer)
          const rate = acked / ((performance.now() - t0) / 1000)
          rates[writers][kind].push(rate)
          ctx.log(`rep ${rep} ${kind} × ${writers}: ${Math.round(rate)} msg/s`)
        }
      }
    }
    for (const kind of KINDS) await stores[kind].close()
    const mk = (writers: 1 | 50, target: number) =>
      row({
        operation: `strict messages/s, ${writers === 1 ? '1 writer' : `${writers} concurrent writers`}`,
        unit: 'msg/s',
        better: 'higher',
        before: median(rates[writers]['python-every-message']),
        after: median(rates[writers].ours),
        peers: { [`${STORE_LABELS.lowdb} (no fsync)`]: median(rates[writers].lowdb) },
        spread: spreadText(rates[writers].ours),
        target: { op: '>=', value: target },
      })
    return {
      rows: [mk(1, 4_000), mk(50, 100_000)],
      notes: [
        `${USERS} conversations × 100 messages of history to start with; each figure is the median of ${reps} windows of ${windowMs} ms, stores alternating. A message counts once its add() resolved. The Python baseline saves (write-file-atomic: write, fsync, rename) inside every add, which is its only durable mode.`,
      ],
    }
  },
})
