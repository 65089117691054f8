import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { formatBytes } from './lib/format.js'
import { legacyFile, openStore, STORE_LABELS, type StoreKind } from './lib/memory-stores.js'
import { readIo } from './lib/proc.js'
import { type Row, row } from './lib/result.js'
import { averageMessageBytes, chatTraffic } from './lib/workload.js'

const KINDS: StoreKind[] = ['python-every-message', 'ours', 'python-every-5', 'lowdb']
const USERS = 50

await runBench(fileURLToPath(import.meta.url), {
  title: 'bytes written per appended message vs history length',
  claim:
    'Amortized over ≥ 10,000 appends including compaction, @taurobot/memory writes under 3× a message’s own serialized size per appended message, at 10, 100 and 1000 messages per conversation; whole-file stores write the whole store per save.',
  notCovered: [
    'The one-off `.bak` copy made by the first write of a process (made before measuring, for every store).',
    'Disk-level write amplification (filesystem journal, block rounding): the figure is what the process hands to write().',
    'Whole-file stores are sampled over fewer appends (their cost per save is the file size, the same every time); @taurobot/memory over ≥ 10,000 appends, ending right after a compaction (default settings: the snapshot is rewritten once the journal is twice its size).',
  ],
  async run(ctx) {
    const histories = [10, 100, 1000]
    const budget = (ctx.quick ? 40 : 120) * 1024 * 1024
    const minAppends = ctx.quick ? 3_000 : 10_000
    const maxAppends = ctx.quick ? 20_000 : 150_000
    const perMessage: Record<StoreKind, Array<number | null>> = {
      ours: [],
      'python-every-message': [],
      'python-every-5': [],
      lowdb: [],
    }
    const notes: string[] = []
    const rows: Row[] = []
    const traffic = chatTraffic(USERS, 2_000, 7)
    const messageBytes = averageMessageBytes(traffic)
    for (const history of histories) {
      const seed = chatTraffic(USERS, history, history)
      const fileText = legacyFile(seed)
      const fileBytes = Buffer.byteLength(fileText)
      for (const kind of KINDS) {
        const dir = join(ctx.tmpDir, `${kind}-${history}`)
        mkdirSync(dir)
        writeFileSync(join(dir, 'conversations.json'), fileText)
        const store = await openStore(kind, dir, { maxMessages: history, saveEvery: 5 })
        // Warm-up: the first write of a process makes the one-off .bak copy; keep it out.
        let next = 0
        for (; next < 5; next++) await store.add(traffic[next % traffic.length] as (typeof traffic)[number])
        await store.flush()
        // A snapshot over 8 MiB is hard-linked as the .bak, then copied in the background: wait for
        // that copy (its own inode) too, so the one-off backup stays out of the window as well.
        if (kind === 'ours') await backupCopied(store.path)
        let appends = 0
        let compactions = 0
        let inode = statSync(store.path).ino
        const wholeFile = kind !== 'ours'
        const target = wholeFile
          ? Math.max(10, Math.min(500, Math.round(budget / fileBytes / 5) * 5)) *
            (kind === 'python-every-5' ? 5 : 1)
          : maxAppends
        const io0 = readIo()
        while (appends < target) {
          for (let i = 0; i < 5; i++, appends++, next++) {
            await store.add(traffic[next % traffic.length] as (typeof traffic)[number])
          }
          // Batches of exactly saveEvery messages: the smallest batches, so the most overhead.
          await store.flush()
          if (!wholeFile && appends % 100 === 0) {
            const ino = statSync(store.path).ino
            // Stop right after a compaction, so the window holds whole journal cycles only.
            if (ino !== inode) {
              compactions += 1
              inode = ino
              if (appends >= minAppends) break
            }
          }
        }
        const written = readIo().wchar - io0.wchar
        await store.close()
        const bytes = written / appends
        perMessage[kind].push(bytes)
        ctx.log(
          `${kind} @${history}: ${appends} appends, ${formatBytes(bytes)}/message, ${compactions} compactions`,
        )
        if (!wholeFile) {
          notes.push(
            `At ${history} messages per conversation: @taurobot/memory measured over ${appends.toLocaleString('en-US')} appends with ${compactions} snapshot rewrite${compactions === 1 ? '' : 's'} (compactions) inside the window${compactions === 0 ? ' — none happened before the cap, so compaction is not included at this length' : ''}.`,
          )
        } else if (kind === 'python-every-message') {
          notes.push(
            `At ${history} messages per conversation the store holds ${(USERS * history).toLocaleString('en-US')} messages (${formatBytes(fileBytes)} as indent-2 JSON); whole-file stores sampled over ${appends} appends.`,
          )
        }
      }
      const at = histories.indexOf(history)
      const v = (k: StoreKind) => perMessage[k][at] ?? null
      rows.push(
        row({
          operation: `bytes written per message at ${history} messages of history`,
          unit: 'B',
          better: 'lower',
          before: v('python-every-message'),
          after: v('ours'),
          peers: { [STORE_LABELS['python-every-5']]: v('python-every-5'), [STORE_LABELS.lowdb]: v('lowdb') },
        }),
      )
      const ours = v('ours')
      rows.push(
        row({
          operation: `@taurobot/memory bytes per message ÷ message size at ${history}`,
          unit: '×',
          better: 'lower',
          after: ours === null ? null : ours / messageBytes,
          target: { op: '<=', value: 3 },
        }),
      )
    }
    notes.unshift(
      `${USERS} users, history kept at exactly N messages per conversation (maxMessages: N), Italian chat messages averaging ${Math.round(messageBytes)} bytes as compact JSON; bytes counted by the kernel (wchar in /proc/self/io: everything the process wrote, including libuv's 8-byte wake-up writes), not reported by the stores.`,
    )
    return {
      rows,
      notes,
      charts: [
        {
          file: 'bench-memory-bytes.svg',
          title: 'Bytes written per appended message vs history length (50 users)',
          xLabel: 'messages of history per conversation',
          categories: histories.map(String),
          panels: [
            {
              yLabel: 'bytes written per message',
              unit: 'B',
              logScale: true,
              series: KINDS.map((k) => ({ name: STORE_LABELS[k], values: perMessage[k] })),
            },
          ],
        },
      ],
    }
  },
})

/** Resolves once `<path>.bak` is a file of its own, not a hard link to the snapshot (or after 30 s). */
async function backupCopied(path: string): Promise<void> {
  const deadline = performance.now() + 30_000
  while (performance.now() < deadline) {
    try {
      if (statSync(`${path}.bak`).ino !== statSync(path).ino) return
    } catch {
      return // no .bak: nothing to wait for
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
