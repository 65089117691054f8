// One measurement of the memory-scale bench in a fresh process (its own heap and RSS), run under
// plain node. Prints one line `SCALE {json}`.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type BatchEntry, type Memory, openMemory } from '@taurobot/memory'
import { sqliteBackend } from '@taurobot/memory/sqlite'
import Database from 'better-sqlite3'
import { readStatus } from './proc.js'
import { pythonConversations, scaleUserId } from './scale-data.js'
import { SCALE_MARKER } from './scale-report.js'
import { percentileSorted } from './stats.js'

const MESSAGE = {
  role: 'user',
  content:
    'Mi puoi consigliare un ristorante a Bologna per stasera? Siamo in quattro e vorremmo mangiare i tortellini.',
}

function report(data: Record<string, unknown>): void {
  process.stdout.write(`${SCALE_MARKER} ${JSON.stringify(data)}\n`)
}

/** CPU time of the main thread in ms (see event-loop-child.ts), or undefined off Linux. */
function mainThreadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return undefined
  }
}

/**
 * Opens a JSON store of `users` conversations, reads each once, saves once, adds 1,000 messages,
 * closes.
 */
async function json(path: string, users: number): Promise<void> {
  const warnings: string[] = []
  const t0 = performance.now()
  let memory: Memory
  try {
    memory = await openMemory({ path, flushOnExit: false, onWarning: (w: string) => warnings.push(w) })
  } catch (error) {
    const e = error as { code?: string; message?: string }
    report({ error: e.code ?? 'error', message: e.message, peakRssBytes: readStatus().peakRssBytes })
    return
  }
  const openMs = performance.now() - t0
  const afterOpen = readStatus()
  // Open parses no conversation; this is what parsing all of them costs on top, once.
  const tRead = performance.now()
  for (let user = 0; user < users; user++) await memory.history(scaleUserId(user), { limit: 1 })
  const readAllMs = performance.now() - tRead
  const t1 = performance.now()
  await memory.add(scaleUserId(0), MESSAGE)
  await memory.flush()
  const firstSaveMs = performance.now() - t1
  for (let i = 1; i < 1000; i++) await memory.add(scaleUserId((i * 37) % users), MESSAGE)
  await memory.flush()
  const t2 = performance.now()
  await memory.close()
  const closeMs = performance.now() - t2
  report({
    openMs,
    readAllMs,
    rssAfterOpenBytes: afterOpen.rssBytes,
    peakRssBytes: readStatus().peakRssBytes,
    firstSaveMs,
    closeMs,
    warnings,
  })
}

/**
 * Only the first save after open, then close: more samples of it, each in a fresh process (the
 * `.bak` is made once per process, at the first save), for the median the bench reports.
 */
async function jsonFirstSave(path: string, users: number): Promise<void> {
  const memory = await openMemory({ path, flushOnExit: false, onWarning: () => {} })
  const t1 = performance.now()
  await memory.add(scaleUserId(users - 1), MESSAGE)
  await memory.flush()
  const firstSaveMs = performance.now() - t1
  await memory.close()
  report({ firstSaveMs })
}

/** Fills a SQLite database through the backend itself, in large batches (not measured). */
async function sqliteBuild(path: string, users: number, perUser: number): Promise<void> {
  const backend = sqliteBackend({ path })
  await backend.open({ maxMessages: Math.max(1000, perUser), warn() {}, recovered() {} })
  const t0 = performance.now()
  let batch: BatchEntry[] = []
  let size = 0
  for (const conversation of pythonConversations(users, perUser)) {
    batch.push(conversation)
    size += conversation.messages.length
    if (size >= 50_000) {
      await backend.append(batch)
      batch = []
      size = 0
    }
  }
  if (batch.length > 0) await backend.append(batch)
  await backend.close()
  report({ buildMs: performance.now() - t0 })
}

/** Open, reads, main-thread time per save and batched throughput on a large SQLite database. */
async function sqlite(path: string, users: number, saves: number): Promise<void> {
  const t0 = performance.now()
  const memory = await openMemory({ path, flushOnExit: false })
  const openMs = performance.now() - t0
  const afterOpen = readStatus()
  // history(id, { limit: 20 }) of random conversations.
  const reads: number[] = []
  let seed = 1
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647
    const id = scaleUserId(seed % users)
    const started = performance.now()
    const got = await memory.history(id, { limit: 20 })
    reads.push(performance.now() - started)
    if (got.length !== 20) throw new Error(`history(${id}) returned ${got.length} messages, not 20`)
  }
  reads.sort((a, b) => a - b)
  // Main-thread time per save: 5 adds and the write they make, as memory-event-loop measures it,
  // and like it after 3 s of unmeasured saves (V8 compiles the hot paths meanwhile).
  const warmupEnd = performance.now() + 3000
  for (let save = 0; performance.now() < warmupEnd; save++) {
    for (let i = 0; i < 5; i++) await memory.add(scaleUserId((save * 5 + i) % users), MESSAGE)
    await memory.flush()
  }
  const busy: number[] = []
  const cpu: number[] = []
  for (let save = 0; save < saves; save++) {
    const c0 = mainThreadCpuMs()
    const before = performance.eventLoopUtilization()
    for (let i = 0; i < 5; i++) await memory.add(scaleUserId((save * 5 + i) % users), MESSAGE)
    await memory.flush()
    busy.push(performance.eventLoopUtilization(before).active)
    const c1 = mainThreadCpuMs()
    if (c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0)
  }
  busy.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  // Batched throughput: 100 conversations × 1,000 messages, in chunks under maxPending, three
  // times over (a median: one round on a shared machine can land on a neighbour's burst).
  const total = 100_000
  const batchedRounds: number[] = []
  for (let round = 0; round < 3; round++) {
    const t1 = performance.now()
    for (let sent = 0; sent < total; ) {
      for (const end = Math.min(total, sent + 5000); sent < end; sent++) {
        await memory.add(scaleUserId(sent % 100), MESSAGE)
      }
      await memory.flush()
    }
    batchedRounds.push(total / ((performance.now() - t1) / 1000))
  }
  const t2 = performance.now()
  await memory.close()
  report({
    openMs,
    rssAfterOpenBytes: afterOpen.rssBytes,
    historyP50Ms: percentileSorted(reads, 50),
    historyP99Ms: percentileSorted(reads, 99),
    saveBusyP50Ms: percentileSorted(busy, 50),
    saveBusyP99Ms: percentileSorted(busy, 99),
    saveBusyMaxMs: busy.at(-1),
    saveCpuP99Ms: cpu.length > 0 ? percentileSorted(cpu, 99) : null,
    batchedRounds,
    closeMs: performance.now() - t2,
  })
}

/**
 * Strict adds, one writer awaiting each, against a bare better-sqlite3 loop that commits one row
 * per transaction with the same durability (WAL, synchronous=FULL): windows alternate.
 */
/**
 * A bare better-sqlite3 loop that does per message what a strict add costs SQLite in the store's
 * own schema: one transaction that looks up the conversation's row, inserts the message and updates
 * the row (its count, next sequence number and newest timestamp), so two pages change per commit
 * where the bare insert loop changes one. What is left between it and the store is the store's own
 * work (validation, ids, the promise per add, the batcher).
 */
function sameWorkLoop(path: string): { window(ms: number): number; close(): void } {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(`CREATE TABLE conversations (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, count INTEGER NOT NULL,
    next_seq INTEGER NOT NULL, last_timestamp TEXT, last_time REAL);
  CREATE TABLE messages (conversation INTEGER NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL, message_id TEXT,
    PRIMARY KEY (conversation, seq)) WITHOUT ROWID;`)
  const find = db.prepare('SELECT key, count, next_seq FROM conversations WHERE id = ?')
  const create = db.prepare('INSERT INTO conversations (id, count, next_seq) VALUES (?, 0, 0)')
  const insert = db.prepare('INSERT INTO messages (conversation, seq, json, message_id) VALUES (?, ?, ?, ?)')
  const update = db.prepare(
    'UPDATE conversations SET count = ?, next_seq = ?, last_timestamp = ?, last_time = ? WHERE key = ?',
  )
  const add = db.transaction(
    (id: string, json: string, messageId: string, timestamp: string, time: number) => {
      let row = find.get(id) as { key: number; count: number; next_seq: number } | undefined
      if (row === undefined) row = { key: Number(create.run(id).lastInsertRowid), count: 0, next_seq: 0 }
      insert.run(row.key, row.next_seq, json, messageId)
      update.run(row.count + 1, row.next_seq + 1, timestamp, time, row.key)
    },
  )
  let n = 0
  return {
    window(ms) {
      let count = 0
      const started = performance.now()
      const end = started + ms
      while (performance.now() < end) {
        const now = new Date()
        const timestamp = now.toISOString()
        const messageId = randomUUID()
        add(
          scaleUserId(n++ % 50),
          JSON.stringify({ ...MESSAGE, timestamp, id: messageId }),
          messageId,
          timestamp,
          now.getTime(),
        )
        count++
      }
      return count / ((performance.now() - started) / 1000)
    },
    close: () => db.close(),
  }
}

async function sqliteStrict(dir: string, windowMs: number, reps: number): Promise<void> {
  const memory = await openMemory({ path: join(dir, 'ours.db'), durability: 'strict', flushOnExit: false })
  const inline = await openMemory({
    backend: sqliteBackend({ path: join(dir, 'inline.db'), worker: false }),
    durability: 'strict',
    flushOnExit: false,
  })
  const worker = await openMemory({
    backend: sqliteBackend({ path: join(dir, 'worker.db'), worker: true }),
    durability: 'strict',
    flushOnExit: false,
  })
  const bare = new Database(join(dir, 'bare.db'))
  bare.pragma('journal_mode = WAL')
  bare.pragma('synchronous = FULL')
  bare.exec(
    'CREATE TABLE IF NOT EXISTS messages (conversation TEXT, seq INTEGER, json TEXT, PRIMARY KEY (conversation, seq)) WITHOUT ROWID',
  )
  const insert = bare.prepare('INSERT INTO messages (conversation, seq, json) VALUES (?, ?, ?)')
  let bareSeq = 0
  const ownStatements = sameWorkLoop(join(dir, 'same-work.db'))
  const ours: number[] = []
  const sameWork: number[] = []
  const mainThread: number[] = []
  const onWorker: number[] = []
  const loop: number[] = []
  let n = 0
  const window = async (store: Memory): Promise<number> => {
    let count = 0
    const started = performance.now()
    const end = started + windowMs
    while (performance.now() < end) {
      await store.add(scaleUserId(n++ % 50), MESSAGE)
      count++
    }
    return count / ((performance.now() - started) / 1000)
  }
  for (let rep = 0; rep < reps; rep++) {
    ours.push(await window(memory))
    mainThread.push(await window(inline))
    onWorker.push(await window(worker))
    let count = 0
    const end = performance.now() + windowMs
    const started = performance.now()
    while (performance.now() < end) {
      const message = { ...MESSAGE, timestamp: new Date().toISOString() }
      insert.run(scaleUserId(bareSeq % 50), bareSeq++, JSON.stringify(message))
      count++
    }
    loop.push(count / ((performance.now() - started) / 1000))
    sameWork.push(ownStatements.window(windowMs))
  }
  ownStatements.close()
  await memory.close()
  await inline.close()
  await worker.close()
  bare.close()
  report({ ours, mainThread, onWorker, bare: loop, sameWork })
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'json') await json(args[0] as string, Number(args[1]))
else if (mode === 'json-first-save') await jsonFirstSave(args[0] as string, Number(args[1]))
else if (mode === 'sqlite-build') await sqliteBuild(args[0] as string, Number(args[1]), Number(args[2]))
else if (mode === 'sqlite') await sqlite(args[0] as string, Number(args[1]), Number(args[2]))
else if (mode === 'sqlite-strict') await sqliteStrict(args[0] as string, Number(args[1]), Number(args[2]))
else throw new Error(`unknown mode ${mode}`)
