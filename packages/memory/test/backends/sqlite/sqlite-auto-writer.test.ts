import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { AUTO_TUNING, type AutoTuning } from '../../../src/backends/sqlite/auto-writer.js'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import type {
  BackendContext,
  BatchEntry,
  CommitCounts,
  Memory,
  MemoryOptions,
  Message,
} from '../../../src/index.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import type { SqliteBackendOptions } from '../../../src/sqlite.js'
import { ensureBuilt, fixture, tempDir } from '../../helpers.js'

const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))
const exitingWorker = pathToFileURL(fixture('exiting-write-worker.mjs'))
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function freshPath(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return join(dir, 'conversations.db')
}

function context(durability: 'batched' | 'strict' = 'strict'): BackendContext {
  return { maxMessages: 100_000, durability, warn: () => undefined, recovered: () => undefined }
}

// Commits on a shared machine are not always fast: unless a test is about slow commits, none
// counts as slow, so where each commit runs does not depend on the machine's load.
const NEVER_SLOW: Partial<AutoTuning> = {
  slowAverageMs: Number.POSITIVE_INFINITY,
  slowCommitMs: Number.POSITIVE_INFINITY,
  stallMs: Number.POSITIVE_INFINITY,
}

/** A backend of the default writer (`worker: 'auto'`) on the built write worker, opened. */
/**
 * A strict store on `path` whose busy timeout (a minute) is far over any test's: a commit waiting in
 * SQLite's busy handler on the main thread would hold the event loop, so a test that releases a
 * lock from a timer, or waits for another process, would hang rather than pass.
 */
async function openStrictWaiting(path: string): Promise<Memory> {
  const backend = new SqliteBackend({ path, busyTimeoutMs: 60_000 }, builtWorker, {
    ...AUTO_TUNING,
    ...NEVER_SLOW,
  })
  const memory = await openMemory({ backend, flushOnExit: false, durability: 'strict' })
  cleanups.push(() => memory.close())
  return memory
}

async function openBackend(
  path: string,
  options: Omit<SqliteBackendOptions, 'path'> = {},
  tuning: Partial<AutoTuning> = {},
  worker = builtWorker,
): Promise<SqliteBackend> {
  const backend = new SqliteBackend({ path, ...options }, worker, {
    ...AUTO_TUNING,
    ...NEVER_SLOW,
    ...tuning,
  })
  await backend.open(context())
  cleanups.push(() => backend.close())
  return backend
}

async function openStore(
  path: string,
  store: Omit<MemoryOptions, 'backend'> = {},
  tuning: Partial<AutoTuning> = {},
): Promise<Memory> {
  const memory = await openMemory({
    backend: new SqliteBackend({ path }, builtWorker, { ...AUTO_TUNING, ...NEVER_SLOW, ...tuning }),
    flushOnExit: false,
    durability: 'strict',
    ...store,
  })
  cleanups.push(() => memory.close())
  return memory
}

function batch(id: string, contents: string[]): BatchEntry[] {
  const timestamp = new Date().toISOString()
  return [{ id, messages: contents.map((content): Message => ({ role: 'user', content, timestamp })) }]
}

async function commits(backend: SqliteBackend): Promise<CommitCounts> {
  return (await backend.stats()).commits as CommitCounts
}

function contents(messages: Array<{ content: string }>): string[] {
  return messages.map((m) => m.content)
}

const counts = (mainThread: number, worker: number, handedOverBusy = 0, handedOverSlow = 0) => ({
  mainThread,
  worker,
  handedOverBusy,
  handedOverSlow,
})

describe("sqlite backend, worker: 'auto' (the default)", () => {
  it('commits small strict adds on the main thread, after a first one on the worker, and says so in stats', async () => {
    const memory = await openStore(await freshPath())
    for (let i = 0; i < 5; i++) await memory.add('a', { role: 'user', content: `m${i}` })
    // The first append goes to the worker, which looked for over-limit conversations before it.
    expect((await memory.stats()).commits).toEqual(counts(4, 1))
    expect(contents(await memory.history('a'))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it('worker: true commits everything on the worker, worker: false everything on the main thread', async () => {
    const onWorker = await openBackend(await freshPath(), { worker: true })
    const inline = await openBackend(await freshPath(), { worker: false })
    for (const backend of [onWorker, inline]) {
      for (let i = 0; i < 3; i++) await backend.append(batch('a', [`m${i}`]))
    }
    expect(await commits(onWorker)).toEqual(counts(0, 3))
    expect(await commits(inline)).toEqual(counts(3, 0))
  })

  it('sends big batches (by count or by size), clear and prune to the worker', async () => {
    const backend = await openBackend(await freshPath())
    await backend.append(batch('a', ['first']))
    await backend.append(batch('a', ['small']))
    expect(await commits(backend)).toEqual(counts(1, 1))
    await backend.append(
      batch(
        'a',
        Array.from({ length: 1000 }, (_, i) => `bulk ${i}`),
      ),
    )
    expect(await commits(backend)).toEqual(counts(1, 2))
    // 16 messages stay on the main thread; 17 do not.
    await backend.append(
      batch(
        'b',
        Array.from({ length: 16 }, (_, i) => `b${i}`),
      ),
    )
    await backend.append(
      batch(
        'b',
        Array.from({ length: 17 }, (_, i) => `b${i}`),
      ),
    )
    expect(await commits(backend)).toEqual(counts(2, 3))
    // Two messages of 40 KB: few, but over 64 KiB of JSON.
    await backend.append(batch('c', ['x'.repeat(40_000), 'y'.repeat(40_000)]))
    expect(await commits(backend)).toEqual(counts(2, 4))
    expect(await backend.clear('c')).toBe(true)
    expect(await backend.prune(0)).toEqual([])
    expect(await commits(backend)).toEqual(counts(2, 6))
    expect((await backend.read('a')).length).toBe(1002)
  })

  it('keeps the order of writes across the threads: a small append never overtakes a batch on the worker', async () => {
    const backend = await openBackend(await freshPath())
    await backend.append(batch('a', ['0']))
    // Called without waiting: the small ones would commit inline at once, before the big one
    // reached the worker, if the writer did not hold them back.
    const big = Array.from({ length: 100 }, (_, i) => `big ${i}`)
    await Promise.all([
      backend.append(batch('a', ['1'])),
      backend.append(batch('a', big)),
      backend.append(batch('a', ['2'])),
      backend.clear('b'),
      backend.append(batch('a', ['3'])),
    ])
    expect(contents(await backend.read('a'))).toEqual(['0', '1', ...big, '2', '3'])
    expect(await commits(backend)).toEqual(counts(3, 3))
  })

  it('a database locked by another connection: the commit goes to the worker, which waits, and the message is stored once', async () => {
    const path = await freshPath()
    // The timer below that releases the lock needs the event loop (see openStrictWaiting).
    const memory = await openStrictWaiting(path)
    await memory.add('a', { role: 'user', content: 'first' })
    await memory.add('a', { role: 'user', content: 'inline' })
    const holder = new Database(path)
    cleanups.push(() => void holder.close())
    holder.exec('BEGIN IMMEDIATE')
    // Released from this event loop, while the worker waits for the lock.
    const release = setTimeout(() => holder.exec('COMMIT'), 200)
    cleanups.push(() => clearTimeout(release))
    await memory.add('a', { role: 'user', content: 'while locked' })
    expect(holder.inTransaction).toBe(false)
    // Then the cooldown: the next small add goes to the worker too.
    await memory.add('a', { role: 'user', content: 'cooling' })
    expect((await memory.stats()).commits).toEqual(counts(1, 3, 2, 0))
    expect(contents(await memory.history('a'))).toEqual(['first', 'inline', 'while locked', 'cooling'])
    const rows = holder.prepare("SELECT COUNT(*) FROM messages WHERE json LIKE '%while locked%'").pluck()
    expect(rows.get()).toBe(1)
  })

  it('a database reopened and then locked by another process: the first commit on the main thread does not wait for the lock', async () => {
    const path = await freshPath()
    const before = await openMemory({ path, flushOnExit: false })
    await before.add('z', { role: 'user', content: 'earlier' })
    await before.close()
    // Nothing in this open changes the schema, so nothing makes SQLite prepare its statements
    // again: the busy timeout must be switched off for the main thread's commit all the same.
    const memory = await openStrictWaiting(path)
    await memory.add('a', { role: 'user', content: 'first' })
    const holder = spawn(process.execPath, [fixture('sqlite-lock-holder.mjs'), path, '300'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(holder, 'exit')
    cleanups.push(() => void holder.kill())
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (data) => String(data).includes('locked') && resolve()),
    )
    await memory.add('a', { role: 'user', content: 'while locked' })
    await exited
    // Handed to the worker at the first try; a main thread waiting in SQLite's busy handler would
    // have committed it itself once the other process let go (counts(1, 1)).
    expect((await memory.stats()).commits).toEqual(counts(0, 2, 1, 0))
    expect(contents(await memory.history('a'))).toEqual(['first', 'while locked'])
  })

  it('a lock held past busyTimeoutMs: the add rejects with locked, as on the worker, and nothing is written', async () => {
    const path = await freshPath()
    const backend = await openBackend(path, { busyTimeoutMs: 50 })
    await backend.append(batch('a', ['first']))
    const holder = new Database(path)
    cleanups.push(() => void holder.close())
    holder.exec('BEGIN IMMEDIATE')
    const attempt = backend.append(batch('a', ['refused']))
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await expect(attempt).rejects.toThrow(/is locked by another connection \(SQLITE_BUSY/)
    holder.exec('COMMIT')
    // Reads on the main connection still wait for locks as before (its busy timeout is restored).
    await expect(backend.read('a')).resolves.toHaveLength(1)
    expect(await commits(backend)).toEqual(counts(0, 1))
  })

  it('slow commits on the main thread: everything goes to the worker for the cooldown', async () => {
    // Any real commit takes more than 0 ms: each one is "slow".
    const backend = await openBackend(await freshPath(), {}, { stallMs: 0, cooldownMs: 3_600_000 })
    for (let i = 0; i < 5; i++) await backend.append(batch('a', [`m${i}`]))
    // m0 on the worker; m1 inline and not measured (it prepares the statements); m2 inline and
    // slow; m3 and m4 on the worker.
    expect(await commits(backend)).toEqual(counts(2, 3, 0, 2))
    expect((await backend.read('a')).length).toBe(5)
  })

  it('after the cooldown, a small commit is tried on the main thread again', async () => {
    // No cooldown: each commit is a probe, found slow, and the next one probes again.
    const backend = await openBackend(await freshPath(), {}, { stallMs: 0, cooldownMs: 0 })
    for (let i = 0; i < 5; i++) await backend.append(batch('a', [`m${i}`]))
    expect(await commits(backend)).toEqual(counts(4, 1))
  })

  it('one commit over slowCommitMs does not switch, a second within stallWindow commits does', async () => {
    // Every real commit takes more than 0 ms.
    const apart = await openBackend(
      await freshPath(),
      {},
      { slowCommitMs: 0, stallWindow: 0, cooldownMs: 3_600_000 },
    )
    const close = await openBackend(
      await freshPath(),
      {},
      { slowCommitMs: 0, stallWindow: 1, cooldownMs: 3_600_000 },
    )
    for (const backend of [apart, close]) {
      for (let i = 0; i < 5; i++) await backend.append(batch('a', [`m${i}`]))
    }
    expect(await commits(apart)).toEqual(counts(4, 1))
    // m0 on the worker; m1 not measured; m2 over the limit, m3 too: switch; m4 on the worker.
    expect(await commits(close)).toEqual(counts(3, 2, 0, 1))
  })

  it('a smoothed commit time over slowAverageMs switches too, after a few commits', async () => {
    // Every real commit takes more than twice this limit, so each counts as 2 × the limit.
    const backend = await openBackend(await freshPath(), {}, { slowAverageMs: 1e-6, cooldownMs: 3_600_000 })
    for (let i = 0; i < 14; i++) await backend.append(batch('a', [`m${i}`]))
    // m0 on the worker; m1 not measured (it prepares the statements); from half the limit, the
    // estimate passes it at the 8th commit measured (m9); m10 to m13 on the worker.
    expect(await commits(backend)).toEqual(counts(9, 5, 0, 4))
  })

  it('in batched mode every commit goes to the worker: nobody waits for one, and saves keep the event-loop budget', async () => {
    const backend = new SqliteBackend({ path: await freshPath() }, builtWorker)
    await backend.open(context('batched'))
    cleanups.push(() => backend.close())
    for (let i = 0; i < 3; i++) await backend.append(batch('a', [`m${i}`]))
    expect(await commits(backend)).toEqual(counts(0, 3))
  })

  it('errors of a commit on the main thread surface as MemoryErrors, as with worker: false', async () => {
    const path = await freshPath()
    const backend = await openBackend(path)
    await backend.append(batch('a', ['first']))
    const other = new Database(path)
    cleanups.push(() => void other.close())
    other.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.json LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
    )
    const attempt = backend.append(batch('a', ['boom']))
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(/cannot write 1 message: .*refused by a test trigger/)
    other.exec('DROP TRIGGER refuse')
    await backend.append(batch('a', ['after']))
    expect(await commits(backend)).toEqual(counts(1, 1))
  })

  it('the worker dies under a big batch: that batch rejects, small ones still commit, and the next big one starts a new worker', async () => {
    const path = await freshPath()
    const backend = await openBackend(path, {}, {}, exitingWorker)
    await backend.append(batch('a', ['first']))
    await writeFile(`${path}.exit-at-append`, '')
    const big = Array.from({ length: 20 }, (_, i) => `big ${i}`)
    await expect(backend.append(batch('a', big))).rejects.toThrow(
      /cannot write 20 messages: .*the SQLite write worker stopped: it exited with code 7/,
    )
    await backend.append(batch('a', ['small']))
    await backend.append(batch('a', big))
    expect(contents(await backend.read('a'))).toEqual(['first', 'small', ...big])
    expect(await commits(backend)).toEqual(counts(1, 2))
  })

  it('keeps the WAL file bounded: the worker checkpoints what the main thread commits', async () => {
    const path = await freshPath()
    const backend = await openBackend(path)
    for (let i = 0; i < 4000; i++)
      await backend.append(batch(`c${i % 50}`, [`message ${i} ${'x'.repeat(200)}`]))
    expect((await commits(backend)).mainThread).toBe(3999)
    // 3 pages a commit: without checkpoints, 4,000 commits make a WAL of about 48 MB; with one
    // every 1,000 commits, 12 to 15 MB.
    expect(statSync(`${path}-wal`).size).toBeLessThan(20 * 1024 * 1024)
    expect((await backend.read('c7')).length).toBe(80)
  })

  it('the main connection never checkpoints on its own (up to 40 MB copied on the event loop)', async () => {
    const backend = await openBackend(await freshPath())
    const mainConnection = (backend as unknown as { db: Database.Database }).db
    expect(mainConnection.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
    // A commit's attempt on the main thread runs without the busy timeout; reads get it back.
    await backend.append(batch('a', ['first']))
    await backend.append(batch('a', ['second']))
    expect(mainConnection.pragma('busy_timeout', { simple: true })).toBe(0)
    await backend.read('a')
    expect(mainConnection.pragma('busy_timeout', { simple: true })).toBe(5000)
    await backend.append(batch('a', ['third']))
    expect(mainConnection.pragma('busy_timeout', { simple: true })).toBe(0)
    await backend.stats()
    expect(mainConnection.pragma('busy_timeout', { simple: true })).toBe(5000)
    await backend.append(batch('a', ['fourth']))
    for await (const _ of backend.conversations()) break
    expect(mainConnection.pragma('busy_timeout', { simple: true })).toBe(5000)
  })
})

describe('sqliteBackend worker option', () => {
  it('takes true, false or auto, and refuses anything else naming the option and the values', () => {
    for (const worker of [true, false, 'auto'] as const) {
      expect(() => new SqliteBackend({ path: 'x.db', worker }, builtWorker)).not.toThrow()
    }
    for (const worker of ['yes', 1, null, 'Auto']) {
      expect(() => new SqliteBackend({ path: 'x.db', worker: worker as never }, builtWorker)).toThrow(
        /^worker must be true, false or 'auto', got /,
      )
    }
  })
})
