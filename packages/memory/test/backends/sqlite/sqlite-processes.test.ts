import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { openMemory } from '../../../src/index.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { ensureBuilt, fixture, tempDir } from '../../helpers.js'
import { killAtRandom, type ReportingChild, startReporting } from '../../reporting-child.js'

const run = promisify(execFile)
const writer = fixture('sqlite-writer.mjs')
const WRITERS = 5
const KILLS = Number(process.env.MEMORY_SQLITE_CRASH_KILLS ?? 60)

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir('taurobot-memory-sqlite-')
  cleanups.push(cleanup)
  return dir
}

/** Every message of conversations c0..c<writers-1>, as the k's each label wrote, in stored order. */
async function written(path: string, writers: number): Promise<Map<string, Map<string, number[]>>> {
  const memory = await openMemory({
    backend: sqliteBackend({ path }),
    maxMessages: 1_000_000,
    flushOnExit: false,
  })
  try {
    const byConversation = new Map<string, Map<string, number[]>>()
    for (let w = 0; w < writers; w++) {
      const byLabel = new Map<string, number[]>()
      for (const message of await memory.history(`c${w}`)) {
        const [label, k] = message.content.split(':') as [string, string]
        byLabel.set(label, [...(byLabel.get(label) ?? []), Number(k)])
      }
      byConversation.set(`c${w}`, byLabel)
    }
    return byConversation
  } finally {
    await memory.destroy()
  }
}

interface Child extends ReportingChild {
  /** Highest acknowledged k per conversation. */
  acked: Map<string, number>
  /** Highest k whose upsert of "counter" in u<w> resolved, per writer w. */
  upserted: Map<number, number>
  /** Highest k whose remove of "t-<label>-<k>" from u<w> resolved, per writer w. */
  removed: Map<number, number>
}

function start(
  path: string,
  label: string,
  count: number | 'forever',
  writers: number,
  operations = false,
): Child {
  const acked = new Map<string, number>()
  const upserted = new Map<number, number>()
  const removed = new Map<number, number>()
  const args = [writer, path, label, String(count), String(writers), ...(operations ? ['operations'] : [])]
  const child = startReporting(args, ([word, a, b]) => {
    if (word === 'ack') acked.set(a as string, Number(b))
    else if (word === 'up') upserted.set(Number(a), Number(b))
    else if (word === 'rm') removed.set(Number(a), Number(b))
  })
  return { ...child, acked, upserted, removed }
}

describe('several processes on one database (built package)', () => {
  it('two processes writing the same conversations at once: every message stored once, each in its order', async () => {
    ensureBuilt('sqlite-write-worker.js')
    const path = join(await fresh(), 'shared.db')
    const count = 150
    const children = ['p', 'q'].map((label) => start(path, label, count, 3))
    await Promise.all(children.map((child) => child.exited))
    for (const child of children) expect(child.process.exitCode).toBe(0)
    const stored = await written(path, 3)
    for (const [id, byLabel] of stored) {
      for (const label of ['p', 'q']) {
        expect(byLabel.get(label), `${id} ${label}`).toEqual(Array.from({ length: count }, (_, k) => k))
      }
    }
  }, 60_000)

  it('an idle store does not keep its process alive, and a strict add in flight is not cut short', async () => {
    const index = ensureBuilt('index.js')
    const sqlite = ensureBuilt('sqlite.js')
    const path = join(await fresh(), 'idle.db')
    // No close(): the process ends on its own once the add resolved.
    const script = [
      `const { openMemory } = await import(${JSON.stringify(index)})`,
      `const { sqliteBackend } = await import(${JSON.stringify(sqlite)})`,
      `const memory = await openMemory({ backend: sqliteBackend({ path: ${JSON.stringify(path)} }), durability: 'strict', flushOnExit: false })`,
      "memory.add(1, { role: 'user', content: 'last words' }).then(() => console.log('acked'))",
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 })
    expect(stdout.trim()).toBe('acked')
    const stored = await openMemory({ backend: sqliteBackend({ path }), flushOnExit: false })
    expect((await stored.history(1)).map((m) => m.content)).toEqual(['last words'])
    await stored.close()
  }, 30_000)
})

describe('the CommonJS build', () => {
  it('finds the write worker next to itself and commits there', async () => {
    const cjs = ensureBuilt('sqlite.cjs')
    ensureBuilt('sqlite-write-worker.js')
    const path = join(await fresh(), 'cjs.db')
    const script = `
      const { sqliteBackend } = require(${JSON.stringify(cjs)})
      const backend = sqliteBackend({ path: ${JSON.stringify(path)} })
      ;(async () => {
        await backend.open({ maxMessages: 10, warn() {}, recovered() {} })
        await backend.append([{ id: 'a', messages: [{ role: 'user', content: 'x', timestamp: '2030-01-01T00:00:00.000Z' }] }])
        console.log(JSON.stringify({ worker: backend.writesOnWorker, read: await backend.read('a') }))
        await backend.close()
      })()`
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 20_000 })
    expect(JSON.parse(stdout)).toEqual({
      worker: true,
      read: [{ role: 'user', content: 'x', timestamp: '2030-01-01T00:00:00.000Z' }],
    })
  }, 30_000)
})

type Run = Pick<Child, 'acked' | 'upserted' | 'removed'> & { label: string; found?: Map<string, number> }

/**
 * Upserts and removes by id: "counter" is in each u<w> once at most (no upsert applied twice),
 * holding at least the newest acknowledged value; no temporary message whose remove was
 * acknowledged is back, and at most one per run is left (the one a kill caught between its add
 * and its remove).
 */
async function verifyOperations(path: string, runs: readonly Run[]): Promise<void> {
  const memory = await openMemory({
    backend: sqliteBackend({ path }),
    maxMessages: 1_000_000,
    flushOnExit: false,
  })
  try {
    const index = new Map(runs.map((run, i) => [run.label, i]))
    for (let w = 0; w < WRITERS; w++) {
      const messages = await memory.history(`u${w}`)
      const counters = messages.filter((message) => message.id === 'counter')
      expect(counters.length, `u${w}: "counter" present at most once`).toBeLessThanOrEqual(1)
      let newest: [number, number] | undefined
      runs.forEach((run, i) => {
        const k = run.upserted.get(w)
        if (k !== undefined) newest = [i, k]
      })
      if (newest !== undefined) {
        expect(counters.length, `u${w}: acknowledged upsert ${newest.join(':')} lost`).toBe(1)
        const [label, k] = (counters[0] as { content: string }).content.split(':') as [string, string]
        const run = index.get(label) ?? -1
        expect(
          run > newest[0] || (run === newest[0] && Number(k) >= newest[1]),
          `u${w}: counter ${label}:${k} older than acknowledged r${newest.join(':')}`,
        ).toBe(true)
      }
      const left = new Map<string, number>()
      for (const message of messages) {
        if (message.id === 'counter') continue
        const [, label, k] = (message.id as string).split('-') as [string, string, string]
        const run = runs[index.get(label) ?? -1]
        expect(run, `u${w}: invented message ${message.id}`).toBeDefined()
        const removed = run?.removed.get(w) ?? -1
        expect(Number(k), `u${w}: ${message.id} is back after its remove was acknowledged`).toBeGreaterThan(
          removed,
        )
        left.set(label, (left.get(label) ?? 0) + 1)
      }
      for (const [label, count] of left) expect(count, `u${w}: temporary messages left by ${label}`).toBe(1)
    }
  } finally {
    await memory.destroy()
  }
}

describe('crash safety (SIGKILL at random instants during strict writes, built package)', () => {
  it(`loses no acknowledged message, upsert or remove, and duplicates or invents none over ${KILLS} kills`, async () => {
    ensureBuilt('sqlite-write-worker.js')
    const path = join(await fresh(), 'crash.db')
    const runs: Run[] = []
    let acknowledged = 0
    let changes = 0
    for (let run = 0; run < KILLS; run++) {
      const child = start(path, `r${run}`, 'forever', WRITERS, true)
      await killAtRandom(child, run, { shortMs: 30, longMs: 150 })
      runs.push({ label: `r${run}`, acked: child.acked, upserted: child.upserted, removed: child.removed })
      acknowledged += [...child.acked.values()].reduce((sum, k) => sum + k + 1, 0)
      for (const done of [child.upserted, child.removed])
        changes += [...done.values()].reduce((sum, k) => sum + k + 1, 0)
      const stored = await written(path, WRITERS)
      const labels = new Set(runs.map((r) => r.label))
      for (const [id, byLabel] of stored) {
        for (const label of byLabel.keys())
          expect(labels.has(label), `${id}: invented label ${label}`).toBe(true)
      }
      for (const earlier of runs) {
        for (let w = 0; w < WRITERS; w++) {
          const id = `c${w}`
          const ks = stored.get(id)?.get(earlier.label) ?? []
          // Exactly once and in order: 0, 1, 2, ... with no gap or repeat.
          expect(ks, `${earlier.label} ${id}`).toEqual(ks.map((_, index) => index))
          const acked = earlier.acked.get(id) ?? -1
          expect(ks.length, `${earlier.label} ${id}: acknowledged up to ${acked}`).toBeGreaterThan(acked)
          const before = earlier.found?.get(id)
          if (before !== undefined) expect(ks.length, `${earlier.label} ${id} changed later`).toBe(before)
        }
        earlier.found = new Map(
          Array.from({ length: WRITERS }, (_, w) => [
            `c${w}`,
            stored.get(`c${w}`)?.get(earlier.label)?.length ?? 0,
          ]),
        )
      }
      await verifyOperations(path, runs)
    }
    // The children got messages acknowledged before being killed, so the checks had work to do.
    expect(acknowledged).toBeGreaterThan(KILLS)
    expect(changes).toBeGreaterThan(KILLS)
    console.log(
      `sqlite crash test: ${KILLS} kills, ${acknowledged} strict messages and ${changes} strict upserts and removes acknowledged`,
    )
  }, 240_000)
})
