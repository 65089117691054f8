import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type Message, openMemory } from '../../../src/index.js'
import { tempDir } from '../../helpers.js'
import { killAtRandom, openAfterKill, type ReportingChild, startReporting } from '../../reporting-child.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, '..', '..', 'fixtures', 'reply-writer.mjs')
const built = join(here, '..', '..', '..', 'dist', 'index.js')
// Kills per lane (strict and batched run side by side); MEMORY_CRASH_KILLS shortens it where the
// full run happens elsewhere, as for crash.test.ts.
const KILLS_PER_LANE = Number(process.env.MEMORY_CRASH_KILLS ?? 60)

/** What one child reported about one reply. */
interface Reported {
  parts?: number
  acked: number
  ended: boolean
  abortedAt?: number
}

interface Child extends ReportingChild {
  replies: Map<string, Reported>
}

function start(path: string, mode: 'strict' | 'batched', run: number): Child {
  const replies = new Map<string, Reported>()
  const reply = (id: string): Reported => {
    let found = replies.get(id)
    if (found === undefined) {
      found = { acked: -1, ended: false }
      replies.set(id, found)
    }
    return found
  }
  // A tiny compaction threshold: snapshots are rewritten every few writes, so kills also land in
  // the middle of one, and replay after a rewrite must not apply a part twice.
  const child = startReporting([fixture, path, mode, String(run), '4096', '0.05'], ([word, id, value]) => {
    if (word === 'start') reply(id as string).parts = Number(value)
    else if (word === 'ack') reply(id as string).acked = Number(value)
    else if (word === 'end') reply(id as string).ended = true
    else if (word === 'abort') reply(id as string).abortedAt = Number(value)
  })
  return { ...child, replies }
}

/** The number of parts in a reply's content "0;1;2;...", or why it is not such a sequence. */
function partsIn(content: string): number | string {
  if (content === '') return 0
  const ks = content.split(';')
  if (ks.pop() !== '') return `ends without ";": ${JSON.stringify(content.slice(-20))}`
  for (let i = 0; i < ks.length; i++) {
    if (ks[i] !== String(i)) return `part ${i} is ${JSON.stringify(ks[i])} (a part lost or repeated)`
  }
  return ks.length
}

/** Reads the store and checks every reply against what the children acknowledged. */
async function verify(
  path: string,
  reported: Map<string, Reported>,
  seen: Map<string, string>,
): Promise<number> {
  // A kill is never damage: at most an unterminated final record.
  const memory = await openAfterKill(path)
  try {
    const messages = await memory.history('r')
    const replies = new Map<string, Message>()
    for (const message of messages) {
      if (message.role === 'user') continue
      const id = message.id as string
      expect(replies.has(id), `reply ${id} stored twice`).toBe(false)
      replies.set(id, message)
      const parts = partsIn(message.content)
      expect(typeof parts, `reply ${id}: ${parts}`).toBe('number')
      // A reply once verified never changes: a later replay or snapshot rewrite applied nothing twice.
      const before = seen.get(id)
      if (before !== undefined) expect(JSON.stringify(message), `reply ${id} changed`).toBe(before)
    }
    for (const [id, report] of reported) {
      const message = replies.get(id)
      if (report.acked >= 0 || report.ended || report.abortedAt !== undefined) {
        expect(message, `acknowledged reply ${id} missing`).toBeDefined()
      }
      if (message === undefined) continue
      const parts = partsIn(message.content) as number
      expect(parts, `reply ${id}: acknowledged up to part ${report.acked}`).toBeGreaterThan(report.acked)
      if (report.parts !== undefined) expect(parts).toBeLessThanOrEqual(report.parts)
      if (report.ended) {
        expect(message.unfinished, `ended reply ${id} still marked`).toBeUndefined()
        expect(parts).toBe(report.parts)
      } else if (report.abortedAt !== undefined) {
        expect(message).toMatchObject({ unfinished: true, aborted: true, abortReason: 'stopped' })
        expect(parts).toBe(report.abortedAt + 1)
      } else if (message.unfinished === undefined) {
        // Ended, and killed before it could say so: then it holds every part.
        expect(parts, `reply ${id} unmarked but incomplete`).toBe(report.parts)
      } else {
        expect(message.unfinished).toBe(true)
      }
    }
    for (const [id, message] of replies) seen.set(id, JSON.stringify(message))
    return [...replies.values()].filter((message) => message.unfinished === true && !message.aborted).length
  } finally {
    // destroy(): no final write, so the next child starts from whatever state the kill left.
    await memory.destroy()
  }
}

async function lane(
  mode: 'strict' | 'batched',
  dir: string,
): Promise<{ kills: number; acknowledged: number; unfinished: number }> {
  const path = join(dir, mode, 'conversations.json')
  const reported = new Map<string, Reported>()
  const seen = new Map<string, string>()
  let acknowledged = 0
  let unfinished = 0
  for (let run = 0; run < KILLS_PER_LANE; run++) {
    const child = start(path, mode, run)
    await killAtRandom(child, run, { shortMs: 40, longMs: 150 })
    for (const [id, report] of child.replies) {
      reported.set(id, report)
      if (report.acked >= 0) acknowledged += report.acked + 1
    }
    unfinished = await verify(path, reported, seen)
  }
  return { kills: KILLS_PER_LANE, acknowledged, unfinished }
}

describe('streamed replies survive SIGKILL (built package)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup()
  })

  it('keeps every acknowledged part, applies none twice and marks cut replies unfinished, strict and batched', async () => {
    expect(existsSync(built), 'build the package first (pnpm --filter @taurobot/memory build)').toBe(true)
    const { dir, cleanup } = await tempDir('taurobot-memory-reply-crash-')
    cleanups.push(cleanup)
    const [strict, batched] = await Promise.all([lane('strict', dir), lane('batched', dir)])
    expect(strict.kills + batched.kills).toBe(2 * KILLS_PER_LANE)
    // The children got parts acknowledged before being killed, so the checks had work to do.
    expect(strict.acknowledged).toBeGreaterThan(KILLS_PER_LANE)
    expect(batched.acknowledged).toBeGreaterThan(KILLS_PER_LANE)
    // Kills did cut replies mid-stream: some are stored unfinished.
    expect(strict.unfinished + batched.unfinished).toBeGreaterThan(0)
    console.log(
      `reply crash test: ${strict.kills + batched.kills} kills; ${strict.acknowledged} strict and ${batched.acknowledged} batched parts acknowledged; ${strict.unfinished + batched.unfinished} replies left unfinished by a kill`,
    )
  }, 600_000)
})

describe('a streaming reply at exit (built package)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup()
  })

  // A child that starts a reply, appends to it and then either waits (kept alive by an interval)
  // or has nothing left to do, with no write due for ten minutes.
  function child(
    path: string,
    wait: boolean,
  ): { process: ChildProcess; ready: Promise<void>; exit: Promise<[number | null, string | null]> } {
    const script = `
      import { openMemory } from ${JSON.stringify(built)}
      const memory = await openMemory({ path: ${JSON.stringify(path)}, flushIntervalMs: 600000 })
      const reply = memory.reply('r', { id: 'at-exit' })
      reply.append('written ')
      reply.append('at exit')
      process.stdout.write('ready\\n')
      ${wait ? 'setInterval(() => {}, 1000)' : ''}
    `
    const spawned = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    return {
      process: spawned,
      ready: new Promise((resolve) => spawned.stdout?.once('data', () => resolve())),
      exit: new Promise((resolve) => spawned.once('exit', (code, signal) => resolve([code, signal]))),
    }
  }

  async function stored(path: string): Promise<Message[]> {
    const memory = await openMemory({ path, flushOnExit: false })
    try {
      return await memory.history('r')
    } finally {
      await memory.close()
    }
  }

  it('SIGTERM: the text so far is written, marked unfinished, and the process still dies by it', async () => {
    const { dir, cleanup } = await tempDir()
    cleanups.push(cleanup)
    const path = join(dir, 'conversations.json')
    const started = child(path, true)
    await started.ready
    started.process.kill('SIGTERM')
    expect(await started.exit).toEqual([null, 'SIGTERM'])
    expect(await stored(path)).toEqual([
      expect.objectContaining({ id: 'at-exit', content: 'written at exit', unfinished: true }),
    ])
  }, 60_000)

  it('a forgotten reply does not keep the process alive; its text is written before exit', async () => {
    const { dir, cleanup } = await tempDir()
    cleanups.push(cleanup)
    const path = join(dir, 'conversations.json')
    const started = child(path, false)
    expect(await started.exit).toEqual([0, null])
    expect(await stored(path)).toEqual([
      expect.objectContaining({ id: 'at-exit', content: 'written at exit', unfinished: true }),
    ])
  }, 60_000)
})
