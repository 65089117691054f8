import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Backend, fileBackend, openMemory } from '@taurobot/memory'
import { runBench } from './lib/bench.js'
import { readIo } from './lib/proc.js'
import { type Row, row } from './lib/result.js'

// The store's own file backend with `extend` hidden: what a backend that applies upserts but not
// extend gets from memory.reply(), each part written as the whole message so far.
function wholeMessageWrites(backend: Backend): Backend {
  return {
    name: backend.name,
    operations: true,
    open: (context) => backend.open(context),
    append: (batch) => backend.append(batch),
    read: (id, limit) => backend.read(id, limit),
    clear: (id) => backend.clear(id),
    conversations: () => backend.conversations(),
    close: () => backend.close(),
  }
}

type Kind = 'extend' | 'upsert'

/**
 * Streams one reply of `deltas` deltas of `size` bytes into a conversation of `history` messages,
 * with one write per `perWrite` deltas, and returns the bytes the process wrote per delta (the
 * reply's start, its parts and its end).
 */
async function bytesPerDelta(
  dir: string,
  kind: Kind,
  history: number,
  size: number,
  perWrite: number,
  deltas: number,
): Promise<number> {
  const inner = fileBackend({
    path: join(dir, `${kind}-${history}-${size}-${perWrite}`, 'conversations.json'),
    // No snapshot rewrite inside the window: the figure is what each write appends.
    compactionMinBytes: 1024 * 1024 * 1024,
  })
  const memory = await openMemory({
    backend: kind === 'extend' ? inner : wholeMessageWrites(inner),
    maxMessages: history + 10,
    saveEvery: 1000,
    flushIntervalMs: 600_000,
    flushOnExit: false,
  })
  for (let i = 0; i < history; i++) {
    await memory.add('chat', {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i} of the history`,
    })
  }
  await memory.flush()
  const delta = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(size / 36)).slice(0, size)
  const io0 = readIo()
  const reply = memory.reply('chat', { role: 'assistant' })
  for (let i = 1; i <= deltas; i++) {
    reply.append(delta)
    if (i % perWrite === 0) await reply.flush()
  }
  await reply.end()
  await memory.flush()
  const written = readIo().wchar - io0.wchar
  // Outside the window: close() may rewrite the snapshot (compactOnClose).
  await memory.close()
  return written / deltas
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'bytes written per streamed reply delta vs history length',
  claim:
    'A streamed reply (memory.reply()) writes at most 2× a delta’s own size per delta once a write carries the deltas of a flush interval, flat in history length, where rewriting the whole message per write grows with the reply.',
  notCovered: [
    'Snapshot rewrites (compaction): turned off inside the window; they are amortized over all writes as for appended messages (see memory-bytes).',
    'Disk-level write amplification (filesystem journal, block rounding): the figure is what the process hands to write().',
    'Time: how many deltas one write carries depends on the model’s speed and flushIntervalMs; the rows give the two ends, one write per delta and 50 (a model at 50 tokens/s with the default flushIntervalMs of 1000).',
  ],
  async run(ctx) {
    const histories = [100, 10_000]
    const sizes = [4, 16, 64]
    const perWrites = [1, 50]
    const deltas = ctx.quick ? 200 : 500
    const rows: Row[] = []
    const notes: string[] = []
    for (const history of histories) {
      for (const perWrite of perWrites) {
        for (const size of sizes) {
          // Alternate the two ways, so load hits both alike.
          const extend = await bytesPerDelta(ctx.tmpDir, 'extend', history, size, perWrite, deltas)
          const upsert = await bytesPerDelta(ctx.tmpDir, 'upsert', history, size, perWrite, deltas)
          ctx.log(
            `history ${history}, ${size} B deltas, ${perWrite} per write: extend ${extend.toFixed(1)} B/delta, upsert ${upsert.toFixed(1)} B/delta`,
          )
          const where = `${size} B deltas, ${perWrite === 1 ? 'a write per delta' : `${perWrite} deltas per write`}, ${history.toLocaleString('en-US')} messages of history`
          rows.push(
            row({
              operation: `bytes written per delta: ${where}`,
              unit: 'B',
              better: 'lower',
              before: upsert,
              after: extend,
            }),
          )
          if (perWrite > 1) {
            rows.push(
              row({
                operation: `bytes per delta ÷ delta size: ${where}`,
                unit: '×',
                better: 'lower',
                after: extend / size,
                target: { op: '<=', value: 2 },
              }),
            )
          }
        }
      }
    }
    notes.push(
      `Each run streams one reply of ${deltas} deltas into one conversation of the file backend (default journal sync), after its history was written; "before" is the same reply on the same backend with extend hidden, so each write is an upsert of the whole message so far (what backends without extend get). Bytes are counted by the kernel (wchar in /proc/self/io: everything the process wrote, libuv's 8-byte wake-up writes included) from the reply’s start (one upsert of the empty message) to its end.`,
      'One write per delta is the worst case (strict durability with reply.flush() after every delta): each journal record then costs about 50 bytes plus its two ids (here a 36-character UUID) beyond the delta, so small deltas stay above 2×.',
    )
    return { rows, notes }
  },
})
