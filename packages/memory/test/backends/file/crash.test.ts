import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { Memory } from '../../../src/index.js'
import { tempDir } from '../../helpers.js'
import { killAtRandom, openAfterKill, type ReportingChild, startReporting } from '../../reporting-child.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, '..', '..', 'fixtures', 'crash-writer.mjs')
const built = join(here, '..', '..', '..', 'dist', 'index.js')
// 200 kills per run, shared by the two lanes below (strict and batched run side by side);
// MEMORY_CRASH_KILLS shortens it where the full run happens elsewhere (CI's Node 22 and 24 runs).
const KILLS_PER_LANE = Number(process.env.MEMORY_CRASH_KILLS ?? 100)
const WRITERS = 5
// Every record the built package writes carries its CRC-32C as the last field.
const CHECKSUMMED = /^\{"s":\d+,.*,"crc":"[0-9a-f]{8}"\}$/

interface Child extends ReportingChild {
  /** strict: highest acknowledged k per conversation; batched: messages reported saved. */
  acked: Map<string, number>
  /** strict: highest k whose upsert of "counter" in u<w> resolved, per writer. */
  upserted: Map<number, number>
  /** strict: highest k whose temporary message in u<w> was removed, per writer. */
  removed: Map<number, number>
  saved: number
}

interface Acknowledged {
  acked: Map<string, number>
  upserted: Map<number, number>
  removed: Map<number, number>
  saved: number
  found?: Map<string, number>
}

function start(path: string, mode: 'strict' | 'batched', run: number): Child {
  const acked = new Map<string, number>()
  const upserted = new Map<number, number>()
  const removed = new Map<number, number>()
  const state = { acked, upserted, removed, saved: 0 }
  // A tiny compaction threshold: the snapshot is rewritten every few writes, so many kills land
  // in the middle of a compaction or between the snapshot rename and the journal restart.
  const child = startReporting([fixture, path, mode, String(run), '2048', '0.05'], ([word, a, b]) => {
    if (word === 'ack') acked.set(a as string, Number(b))
    else if (word === 'up') upserted.set(Number(a), Number(b))
    else if (word === 'rm') removed.set(Number(a), Number(b))
    else if (word === 'saved') state.saved = Number(a)
  })
  return Object.assign(state, child)
}

/** Reads the store and checks it against everything acknowledged by all earlier children. */
async function verify(
  path: string,
  mode: 'strict' | 'batched',
  history: Map<number, Acknowledged>,
): Promise<void> {
  // A kill is never damage: at most an unterminated final record, every other record intact and
  // in sequence, each with its checksum, and no file kept aside as corrupt.
  const memory = await openAfterKill(path)
  try {
    expect((await readdir(dirname(path))).filter((name) => name.includes('.corrupt-'))).toEqual([])
    const journal = await readFile(`${path}.journal`, 'utf8').catch(() => '')
    for (const line of journal.split('\n').filter(Boolean)) expect(line).toMatch(CHECKSUMMED)
    const perRun = new Map<number, Map<string, number[]>>()
    for (let w = 0; w < WRITERS; w++) {
      const id = `c${w}`
      for (const message of await memory.history(id)) {
        const [run, k] = message.content.split(':').map(Number) as [number, number]
        let conversations = perRun.get(run)
        if (conversations === undefined) {
          conversations = new Map()
          perRun.set(run, conversations)
        }
        const ks = conversations.get(id) ?? []
        ks.push(k)
        conversations.set(id, ks)
      }
    }
    for (const [run, expected] of history) {
      const conversations = perRun.get(run) ?? new Map<string, number[]>()
      let total = 0
      for (let w = 0; w < WRITERS; w++) {
        const id = `c${w}`
        const ks = conversations.get(id) ?? []
        // Present exactly once and in order: the k's are 0, 1, 2, ... with no gap or repeat.
        expect(ks, `run ${run} ${id}`).toEqual(ks.map((_, index) => index))
        if (mode === 'strict') {
          const acked = expected.acked.get(id) ?? -1
          expect(ks.length, `run ${run} ${id}: acknowledged up to ${acked}`).toBeGreaterThan(acked)
        }
        const before = expected.found?.get(id)
        if (before !== undefined)
          expect(ks.length, `run ${run} ${id} changed after verification`).toBe(before)
        total += ks.length
      }
      if (mode === 'batched') {
        // What a save reported is on disk; what is on disk is a prefix of what was added.
        expect(total, `run ${run}: reported saved ${expected.saved}`).toBeGreaterThanOrEqual(expected.saved)
        for (let w = 0; w < WRITERS; w++) {
          expect(conversations.get(`c${w}`)?.length ?? 0).toBe(Math.max(0, Math.ceil((total - w) / WRITERS)))
        }
      }
      expected.found = new Map(
        [...Array(WRITERS).keys()].map((w) => [`c${w}`, conversations.get(`c${w}`)?.length ?? 0]),
      )
    }
    if (mode === 'strict') await verifyOperations(memory, history)
  } finally {
    // destroy(): no final compaction, so the next child starts from whatever state the kill left.
    await memory.destroy()
  }
}

/**
 * Upserts and removes: "counter" is in each u<w> once at most (no upsert applied twice), holding
 * at least the newest acknowledged value; no temporary message whose remove was acknowledged is
 * back, and at most one per run is left (the one a kill caught between its add and its remove).
 */
async function verifyOperations(memory: Memory, history: Map<number, Acknowledged>): Promise<void> {
  for (let w = 0; w < WRITERS; w++) {
    const messages = await memory.history(`u${w}`)
    const counters = messages.filter((message) => message.id === 'counter')
    expect(counters.length, `u${w}: "counter" present at most once`).toBeLessThanOrEqual(1)
    let newest: [number, number] | undefined
    for (const [run, expected] of history) {
      const k = expected.upserted.get(w)
      if (k !== undefined) newest = [run, k]
    }
    if (newest !== undefined) {
      expect(counters.length, `u${w}: acknowledged upsert ${newest.join(':')} lost`).toBe(1)
      const [run, k] = (counters[0] as { content: string }).content.split(':').map(Number) as [number, number]
      expect(
        run > newest[0] || (run === newest[0] && k >= newest[1]),
        `u${w}: counter ${run}:${k} older than acknowledged ${newest.join(':')}`,
      ).toBe(true)
    }
    const left = new Map<number, number>()
    for (const message of messages) {
      if (message.id === 'counter') continue
      const [, run, k] = (message.id as string).split('-').map(Number) as [number, number, number]
      const removed = history.get(run)?.removed.get(w) ?? -1
      expect(k, `u${w}: ${message.id} is back after its remove was acknowledged`).toBeGreaterThan(removed)
      left.set(run, (left.get(run) ?? 0) + 1)
    }
    for (const [run, count] of left) expect(count, `u${w}: temporary messages left by run ${run}`).toBe(1)
  }
}

async function lane(
  mode: 'strict' | 'batched',
  dir: string,
): Promise<{ kills: number; leftovers: number; acknowledged: number }> {
  const path = join(dir, mode, 'conversations.json')
  const history = new Map<number, Acknowledged>()
  let leftovers = 0
  let acknowledged = 0
  for (let run = 0; run < KILLS_PER_LANE; run++) {
    const child = start(path, mode, run)
    // Every other child lives longer: background compactions run on a worker thread that starts
    // at the first one, so kills must also reach past its start-up.
    await killAtRandom(child, run, { shortMs: 30, longMs: 150 })
    history.set(run, {
      acked: child.acked,
      upserted: child.upserted,
      removed: child.removed,
      saved: child.saved,
    })
    acknowledged +=
      mode === 'strict' ? [...child.acked.values()].reduce((sum, k) => sum + k + 1, 0) : child.saved
    if (existsSync(dirname(path))) {
      leftovers += (await readdir(dirname(path))).filter((name) => name.includes('.tmp-')).length
    }
    await verify(path, mode, history)
  }
  return { kills: KILLS_PER_LANE, leftovers, acknowledged }
}

describe('crash safety (SIGKILL at random instants, built package)', () => {
  const dirs: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const cleanup of dirs) await cleanup()
  })

  it('loses no acknowledged message and duplicates none, strict and batched, during compaction too', async () => {
    expect(existsSync(built), 'build the package first (pnpm --filter @taurobot/memory build)').toBe(true)
    const { dir, cleanup } = await tempDir('taurobot-memory-crash-')
    dirs.push(cleanup)
    const [strict, batched] = await Promise.all([lane('strict', dir), lane('batched', dir)])
    expect(strict.kills + batched.kills).toBe(2 * KILLS_PER_LANE)
    // The children did get messages acknowledged before being killed, so the checks had work to do.
    expect(strict.acknowledged).toBeGreaterThan(KILLS_PER_LANE / 4)
    expect(batched.acknowledged).toBeGreaterThan(KILLS_PER_LANE / 4)
    console.log(
      `crash test: ${strict.kills + batched.kills} kills, ${strict.leftovers + batched.leftovers} of them left a snapshot or journal temp file (killed mid-compaction); ${strict.acknowledged} strict and ${batched.acknowledged} batched messages acknowledged`,
    )
  }, 240_000)
})
