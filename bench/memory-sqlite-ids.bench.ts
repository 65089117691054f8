import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Backend, BatchEntry, Message } from '@taurobot/memory'
import * as current from '@taurobot/memory'
import { sqliteBackend } from '@taurobot/memory/sqlite'
import Database from 'better-sqlite3'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { median, spreadText, summarize } from './lib/stats.js'

// Where the SQLite backend finds a message by id. Schema version 2 first indexed the id column;
// the index took every insert to a random page of its B-tree (ids are random UUIDs). Now the
// lookup walks the conversation's rows from the newest. This bench weighs the two: what the index
// costs every batched add, and what the walk costs an upsert or a remove, by the message's age.

const CONVERSATIONS = 100
const PER_CONVERSATION = 1000
const ADDS = 100_000
const CHUNK = 5000
const OPS_PER_BATCH = 100
const CONTENT =
  'Mi puoi consigliare un ristorante a Bologna per stasera? Siamo in quattro e vorremmo mangiare i tortellini.'
// The index of development builds of schema version 2, made by hand here (the store drops it).
const ID_INDEX = 'CREATE INDEX messages_by_id ON messages (conversation, message_id)'
// Optional: the dist/ directory of a build of @taurobot/memory before message ids (schema 1, commit
// 46b895e), to add it as a third variant of the batched adds.
const SCHEMA_1 = process.env.BENCH_MEMORY_SCHEMA1_DIST

type OpenMemory = typeof current.openMemory
type Layout = 'scan' | 'index' | 'schema 1'

function message(i: number, content = CONTENT): Message {
  return { role: i % 2 === 0 ? 'user' : 'assistant', content, timestamp: new Date(1e12 + i).toISOString() }
}

function withIndex(path: string): void {
  const db = new Database(path)
  try {
    db.exec(ID_INDEX)
  } finally {
    db.close()
  }
}

/** Writes `conversations` × `per` messages with ids through the backend, in large batches (not measured). */
async function fill(
  backend: Backend,
  conversations: number,
  per: number,
  content = CONTENT,
): Promise<string[][]> {
  const ids: string[][] = []
  for (let c = 0; c < conversations; c++) {
    const list = Array.from({ length: per }, (_, i) => ({ ...message(i, content), id: randomUUID() }))
    ids.push(list.map((m) => m.id))
    const entry: BatchEntry = { id: `chat-${c}`, messages: list }
    await backend.append([entry])
  }
  return ids
}

/** Batched adds per second: 100,000 adds over 100 full conversations, flushed every 5,000. */
async function batchedAdds(
  dir: string,
  layout: Layout,
  openMemory: OpenMemory,
  sqlite: typeof sqliteBackend,
) {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'conversations.db')
  const backend = sqlite({ path })
  await backend.open({ maxMessages: PER_CONVERSATION, warn() {}, recovered() {} })
  await fill(backend, CONVERSATIONS, PER_CONVERSATION)
  await backend.close()
  const memory = await openMemory({ path, flushOnExit: false })
  // The store drops the index of development builds at open: put it back for the "index" variant.
  if (layout === 'index') withIndex(path)
  const t0 = performance.now()
  for (let sent = 0; sent < ADDS; ) {
    for (const end = Math.min(ADDS, sent + CHUNK); sent < end; sent++) {
      await memory.add(`chat-${sent % CONVERSATIONS}`, message(sent))
    }
    await memory.flush()
  }
  const perSecond = ADDS / ((performance.now() - t0) / 1000)
  await memory.close()
  return perSecond
}

/**
 * Milliseconds per operation, in batches of 100 (one transaction each), of upserts of the newest
 * message or removes of the oldest, in 10 conversations of `per` messages.
 */
async function byId(
  dir: string,
  layout: Layout,
  per: number,
  what: 'upsert newest' | 'remove oldest',
  content: string,
) {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'conversations.db')
  const setup = sqliteBackend({ path })
  await setup.open({ maxMessages: per, warn() {}, recovered() {} })
  const ids = await fill(setup, 10, per, content)
  await setup.close()
  // worker: false, so that the time is the statements' and the commit's, not two thread hops.
  const backend = sqliteBackend({ path, worker: false })
  await backend.open({ maxMessages: per, warn() {}, recovered() {} })
  // The store drops the index of development builds at open: put it back for the "index" variant.
  if (layout === 'index') withIndex(path)
  const samples: number[] = []
  for (let round = 0; round < 10; round++) {
    const entries: BatchEntry[] = ids.map((list, c) => ({
      id: `chat-${c}`,
      messages: [],
      operations: Array.from({ length: OPS_PER_BATCH / 10 }, (_, k) =>
        what === 'upsert newest'
          ? {
              op: 'upsert' as const,
              message: { ...message(per, `${content} ${round}.${k}`), id: list.at(-1) as string },
            }
          : { op: 'remove' as const, id: list[round * (OPS_PER_BATCH / 10) + k] as string },
      ),
    }))
    const t0 = performance.now()
    await backend.append(entries)
    samples.push((performance.now() - t0) / OPS_PER_BATCH)
  }
  await backend.close()
  return samples
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'SQLite message ids: index on the id vs a walk from the newest row',
  claim:
    'Finding a message by id must not slow batched adds (≥ 100,000 msg/s at scale, issue #14): without the index on message_id, batched adds run as fast as before message ids (schema 1), and an upsert of the newest message stays cheap; a remove of the oldest costs a walk of the conversation.',
  notCovered: [
    'One database of 100 conversations at the 1,000-message limit for the adds (memory-scale measures 1 M to 20 M messages); messages of about 200 bytes of JSON, and 2 KB in the row that says so.',
    'Upserts and removes are timed on the backend (worker: false), in batches of 100 operations over 10 conversations, each batch one transaction with its fsync; a strict upsert alone pays a whole commit.',
    'The "schema 1" column needs a build of the package before message ids (commit 46b895e), given as BENCH_MEMORY_SCHEMA1_DIST=<its dist directory>; without it, it is empty.',
    'The page cache is warm: the files were just written.',
  ],
  async run(ctx) {
    const rounds = ctx.quick ? 1 : 3
    let old: { openMemory: OpenMemory; sqliteBackend: typeof sqliteBackend } | undefined
    if (SCHEMA_1 !== undefined && existsSync(join(SCHEMA_1, 'index.js'))) {
      const index = (await import(pathToFileURL(join(SCHEMA_1, 'index.js')).href)) as typeof current
      const sqlite = (await import(pathToFileURL(join(SCHEMA_1, 'sqlite.js')).href)) as {
        sqliteBackend: typeof sqliteBackend
      }
      old = { openMemory: index.openMemory, sqliteBackend: sqlite.sqliteBackend }
    }
    const adds: Record<Layout, number[]> = { scan: [], index: [], 'schema 1': [] }
    // Alternating, so that the load of the machine hits every variant alike.
    for (let round = 0; round < rounds; round++) {
      for (const layout of ['schema 1', 'index', 'scan'] as const) {
        if (layout === 'schema 1' && old === undefined) continue
        const lib =
          layout === 'schema 1' && old !== undefined ? old : { openMemory: current.openMemory, sqliteBackend }
        const perSecond = await batchedAdds(
          join(ctx.tmpDir, `adds-${round}-${layout.replace(' ', '')}`),
          layout,
          lib.openMemory,
          lib.sqliteBackend,
        )
        adds[layout].push(perSecond)
        ctx.log(`round ${round} ${layout}: ${Math.round(perSecond)} msg/s`)
      }
    }
    const rows = [
      row({
        operation: `batched adds, ${CONVERSATIONS} conversations of ${PER_CONVERSATION.toLocaleString('en')} messages, flushed every ${CHUNK.toLocaleString('en')}`,
        unit: 'msg/s',
        better: 'higher',
        before: median(adds.index),
        after: median(adds.scan),
        peers: { 'schema 1 (no id column)': adds['schema 1'].length > 0 ? median(adds['schema 1']) : null },
        spread: spreadText(adds.scan),
      }),
    ]
    const cases: Array<[number, 'upsert newest' | 'remove oldest', string]> = [
      [1000, 'upsert newest', CONTENT],
      [1000, 'remove oldest', CONTENT],
      [10_000, 'upsert newest', CONTENT],
      [10_000, 'remove oldest', CONTENT],
      [1000, 'remove oldest', 'x'.repeat(2000)],
    ]
    for (const [per, what, content] of cases) {
      const size = content === CONTENT ? '' : ', 2 KB messages'
      const times: Record<'scan' | 'index', number[]> = { scan: [], index: [] }
      for (const layout of ['index', 'scan'] as const) {
        times[layout] = await byId(
          join(ctx.tmpDir, `ops-${per}-${what.replace(' ', '-')}-${layout}${size ? '-2k' : ''}`),
          layout,
          per,
          what,
          content,
        )
      }
      const scan = summarize(times.scan)
      ctx.log(
        `${what} at ${per}${size}: scan p50 ${scan.median.toFixed(3)} ms, index p50 ${median(times.index).toFixed(3)} ms`,
      )
      rows.push(
        row({
          operation: `${what} by id, ${per.toLocaleString('en')} messages per conversation${size}, per operation in batches of ${OPS_PER_BATCH}`,
          unit: 'ms',
          better: 'lower',
          before: median(times.index),
          after: scan.median,
          spread: spreadText(times.scan, 'batches'),
        }),
      )
    }
    return {
      rows,
      notes: [
        '"before" is schema 2 with the index on (conversation, message_id) that development builds made; "after" finds the row by walking the conversation from its newest row, without that index; "schema 1" is the release before message ids.',
        'A remove of the oldest message walks the whole conversation (up to maxMessages rows); an upsert of an id the conversation does not hold (an append) walks all of it too.',
      ],
    }
  },
})
