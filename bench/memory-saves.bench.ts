import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { installSyncCounter, syncCalls } from './lib/fs-count.js'
import { openStore, STORE_LABELS, type StoreKind } from './lib/memory-stores.js'
import { row } from './lib/result.js'
import { chatTraffic } from './lib/workload.js'

const KINDS: StoreKind[] = ['python-every-message', 'ours', 'python-every-5', 'lowdb']

await runBench(fileURLToPath(import.meta.url), {
  title: 'saves per 100 messages',
  claim:
    '@taurobot/memory with saveEvery: 5 makes at most 20 saves (write + fsync) per 100 messages; the Python bot saved after every message.',
  notCovered: [
    'How much each save writes: see memory-bytes.',
    'Starts from an empty store; the number of saves does not depend on history length, their size does.',
    'lowdb never calls fsync, so its "saves" are not durable; they are counted as whole-file writes.',
  ],
  async run(ctx) {
    await installSyncCounter(ctx.tmpDir)
    const users = 50
    const perUser = ctx.quick ? 10 : 20
    const events = chatTraffic(users, perUser)
    const figures: Record<string, Record<StoreKind, number>> = {}
    const put = (metric: string, kind: StoreKind, value: number) => {
      figures[metric] ??= {} as Record<StoreKind, number>
      ;(figures[metric] as Record<StoreKind, number>)[kind] = value
    }
    let closeSyncs = 0
    for (const paced of [false, true]) {
      for (const kind of KINDS) {
        const dir = join(ctx.tmpDir, `${kind}-${paced ? 'paced' : 'fast'}`)
        mkdirSync(dir)
        const store = await openStore(kind, dir, { saveEvery: 5 })
        const sync0 = syncCalls.count
        const t0 = performance.now()
        for (const e of events) {
          await store.add(e)
          if (paced) await new Promise((r) => setTimeout(r, 2))
        }
        // Every message is durable here (the adds are awaited and a batch is written at saveEvery);
        // close() then writes the final snapshot, a one-time cost reported apart.
        await store.flush()
        const syncs = syncCalls.count - sync0 + (await store.workerSyncs())
        const beforeClose = syncCalls.count
        await store.close()
        const ms = performance.now() - t0
        if (kind === 'ours') closeSyncs = syncCalls.count - beforeClose
        const per100 = 100 / events.length
        const mode = paced ? 'paced' : 'fast'
        put(`saves-${mode}`, kind, store.saves() * per100)
        put(`fsync-${mode}`, kind, syncs * per100)
        ctx.log(
          `${kind} ${mode}: ${store.saves()} saves, ${syncs} durable writes, then ${syncCalls.count - beforeClose} in close(), ${ms.toFixed(0)} ms`,
        )
      }
    }
    const mk = (metric: string, operation: string, target?: number) => {
      const f = figures[metric] as Record<StoreKind, number>
      return row({
        operation,
        unit: 'count',
        better: 'lower',
        before: f['python-every-message'],
        after: f.ours,
        peers: { [STORE_LABELS['python-every-5']]: f['python-every-5'], [STORE_LABELS.lowdb]: f.lowdb },
        ...(target === undefined ? {} : { target: { op: '<=' as const, value: target } }),
      })
    }
    return {
      rows: [
        mk('saves-fast', 'saves per 100 messages, back-to-back adds', 20),
        mk('saves-paced', 'saves per 100 messages, adds 2 ms apart', 20),
        mk(
          'fsync-fast',
          'durable writes (fsync, fdatasync or O_DSYNC write) per 100 messages, back-to-back',
          20,
        ),
        mk(
          'fsync-paced',
          'durable writes (fsync, fdatasync or O_DSYNC write) per 100 messages, 2 ms apart',
          20,
        ),
      ],
      notes: [
        `${users} users × ${perUser} messages (${events.length} messages), interleaved, each add awaited, then flush(). durable writes are counted up to there; close() then adds ${closeSyncs} once for @taurobot/memory (the final snapshot and the journal restart, each a temp file and its directory).`,
        'Saves: the store’s own count (the `save` event for @taurobot/memory). Durable writes: every fsync/fdatasync made by the process and every write on a descriptor opened with O_DSYNC or O_SYNC (durable when write() returns), counted by wrapping node:fs, plus two per background compaction of @taurobot/memory, which runs them on its worker thread.',
      ],
    }
  },
})
