import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { isMemoryError, type Memory, memoryBackend, openMemory } from '../src/index.js'
import { redisBackend } from '../src/redis.js'
import { sqliteBackend } from '../src/sqlite.js'
import {
  deleteKeys,
  REDIS_URL,
  RedisServer,
  redisServerMissing,
  redisUnavailable,
} from './backends/redis/cluster-servers.js'
import { ensureBuilt, fixture, IN_CI, tempDir } from './helpers.js'

// A loop that awaits add() and catches nothing, ended by Ctrl-C: the add() made while the exit
// hooks close the store must not end the process (an unhandled rejection) before the close has
// written what the loop was already told was added.

const redisMissing = await redisUnavailable()
const serverMissing = await redisServerMissing()
const cleanups: Array<() => Promise<void>> = []
const children: ChildProcess[] = []
const keyPrefix = `taurobot-test:${randomUUID()}:`

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

afterAll(async () => {
  if (redisMissing !== undefined) return
  const admin = new Redis(REDIS_URL)
  await deleteKeys(admin, keyPrefix)
  admin.disconnect()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

type Kind = 'file' | 'sqlite' | 'redis'

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** Adds the loop saw resolve. */
  acknowledged: number
  /** Milliseconds from the signal to the exit. */
  afterSignalMs: number
}

/**
 * Runs the loop fixture until it has added 1000 messages and `runMs` more, calls `beforeSignal`,
 * sends `signal`, and reports how the process ended.
 */
async function runLoop(
  kind: Kind,
  target: string,
  signal: NodeJS.Signals,
  options: {
    prefix?: string
    second?: boolean
    runMs?: number
    beforeSignal?: (acknowledged: () => Promise<number>) => Promise<void>
  } = {},
): Promise<Ended> {
  ensureBuilt('index.js')
  const countFile = join(await fresh(), 'count')
  const args = [fixture('signal-loop.mjs'), kind, target, countFile, options.prefix ?? '']
  if (options.second === true) args.push('second')
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, diedBy) => resolve({ code, signal: diedBy })),
  )
  await new Promise<void>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString()
      if (output.includes('ready\n')) resolve()
    })
    void exit.then(({ code }) =>
      reject(new Error(`the loop exited with ${code} before it was ready: ${stderr}`)),
    )
  })
  await new Promise((resolve) => setTimeout(resolve, options.runMs ?? 300))
  const count = async () => Number((await readFile(countFile, 'utf8')).trim())
  await options.beforeSignal?.(count)
  const sent = performance.now()
  child.kill(signal)
  const ended = await exit
  const afterSignalMs = performance.now() - sent
  return { ...ended, stderr, acknowledged: await count(), afterSignalMs }
}

async function reopen(kind: Kind, target: string, prefix?: string): Promise<Memory> {
  const backend =
    kind === 'redis'
      ? redisBackend({ url: target, keyPrefix: prefix })
      : kind === 'sqlite'
        ? sqliteBackend({ path: target })
        : undefined
  return openMemory({
    ...(backend === undefined ? { path: target } : { backend }),
    maxMessages: 10_000_000,
    flushOnExit: false,
  })
}

async function expectAllAcknowledged(
  kind: Kind,
  target: string,
  ended: Ended,
  prefix?: string,
): Promise<void> {
  expect(ended.acknowledged).toBeGreaterThanOrEqual(1000)
  const memory = await reopen(kind, target, prefix)
  try {
    const stored = await memory.history('s')
    expect(stored.length).toBeGreaterThanOrEqual(ended.acknowledged)
    // In order, none missing: the k-th message is "hi k".
    expect(stored[ended.acknowledged - 1]?.content).toBe(`hi ${ended.acknowledged - 1}`)
  } finally {
    await memory.close()
  }
}

describe('a signal while a loop awaits add() without catching', () => {
  const cases: Array<[Kind, NodeJS.Signals]> = [
    ['file', 'SIGINT'],
    ['sqlite', 'SIGINT'],
    ['sqlite', 'SIGTERM'],
    ['redis', 'SIGINT'],
  ]
  for (const [kind, signal] of cases) {
    const skip = kind === 'redis' && redisMissing !== undefined && !IN_CI
    it.skipIf(skip)(
      `${kind}, ${signal}: every acknowledged message is stored, and the process dies by ${signal}`,
      async () => {
        const prefix = kind === 'redis' ? `${keyPrefix}${signal}:` : undefined
        const target =
          kind === 'redis'
            ? REDIS_URL
            : join(await fresh(), kind === 'sqlite' ? 'loop.db' : 'conversations.json')
        const ended = await runLoop(kind, target, signal, { prefix })
        await expectAllAcknowledged(kind, target, ended, prefix)
        expect({ code: ended.code, signal: ended.signal, stderr: ended.stderr }).toEqual({
          code: null,
          signal,
          stderr: '',
        })
      },
      60_000,
    )
  }

  it('two stores: a call refused by the store that closed first waits for the other one to close', async () => {
    const target = join(await fresh(), 'loop.db')
    // The loop adds to SQLite and reads a store in memory, whose close ends first.
    const ended = await runLoop('sqlite', target, 'SIGINT', { second: true })
    await expectAllAcknowledged('sqlite', target, ended)
    expect({ code: ended.code, signal: ended.signal, stderr: ended.stderr }).toEqual({
      code: null,
      signal: 'SIGINT',
      stderr: '',
    })
  }, 60_000)

  it.skipIf(serverMissing !== undefined && !IN_CI)(
    'a close that hangs (Redis frozen) still ends the process by the signal, after the grace time',
    async () => {
      const server = await RedisServer.start()
      cleanups.push(() => server.stop())
      const ended = await runLoop('redis', server.url, 'SIGINT', {
        prefix: keyPrefix,
        // Frozen: the connection stays open, nothing answers, the close waits for the write. The
        // loop then runs until a write is surely waiting for the frozen server (saveEvery is 5):
        // on a loaded machine it may not have run at all between the pause and the signal, and a
        // close with nothing to write ends at once.
        beforeSignal: async (acknowledged) => {
          await server.pause()
          const paused = await acknowledged()
          const until = performance.now() + 10_000
          while ((await acknowledged()) < paused + 20 && performance.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, 10))
          }
        },
      })
      expect({ code: ended.code, signal: ended.signal }).toEqual({ code: null, signal: 'SIGINT' })
      // The exit hooks' grace time is 5 s: the add() held back did not end the process before.
      expect(ended.afterSignalMs).toBeGreaterThan(4500)
      expect(ended.afterSignalMs).toBeLessThan(20_000)
    },
    60_000,
  )
})

describe('calls made while close() runs', () => {
  async function closingStore(): Promise<{
    memory: Memory
    path: string
    closed: Promise<void>
    isClosed: () => boolean
  }> {
    const path = join(await fresh(), 'conversations.json')
    const memory = await openMemory({ path, flushOnExit: false })
    for (let i = 0; i < 50; i++) await memory.add('c', { role: 'user', content: `m${i}` })
    let done = false
    const closed = memory.close().then(() => {
      done = true
    })
    return { memory, path, closed, isClosed: () => done }
  }

  function closingError(error: unknown): boolean {
    return (
      isMemoryError(error) &&
      error.code === 'closed' &&
      (error.details as { state?: string }).state === 'closing' &&
      error.message.includes('closing')
    )
  }

  it('add() and the other calls reject with closed (state closing), only once the close has finished', async () => {
    const { memory, path, closed, isClosed } = await closingStore()
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['add', () => memory.add('c', { role: 'user', content: 'late' })],
      ['addMany', () => memory.addMany('c', [{ role: 'user', content: 'late' }])],
      ['upsert', () => memory.upsert('c', { id: 'u', role: 'user', content: 'late' })],
      ['remove', () => memory.remove('c', 'u')],
      ['history', () => memory.history('c')],
      ['clear', () => memory.clear('c')],
      ['prune', () => memory.prune({ olderThanDays: 1 })],
      ['stats', () => memory.stats()],
    ]
    const outcomes = calls.map(([name, call]) =>
      call().then(
        () => `${name}: resolved`,
        (error: unknown) =>
          `${name}: ${closingError(error) && isClosed() ? 'closed after the close' : String(error)}`,
      ),
    )
    expect(await Promise.all(outcomes)).toEqual(calls.map(([name]) => `${name}: closed after the close`))
    await closed
    const reopened = await openMemory({ path, flushOnExit: false })
    expect((await reopened.history('c')).map((m) => m.content)).toHaveLength(50)
    await reopened.close()
  })

  it("a reply's end() made while closing rejects with closed once the close has finished", async () => {
    const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const reply = memory.reply('c')
    reply.append('partial')
    let done = false
    const closed = memory.close().then(() => {
      done = true
    })
    const ended = await reply.end().then(
      () => 'resolved',
      (error: unknown) => closingError(error) && done,
    )
    expect(ended).toBe(true)
    await closed
  })

  it('after close(): flush() resolves with nothing to do, other calls reject with closed at once', async () => {
    const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    await memory.add('c', { role: 'user', content: 'kept' })
    await memory.close()
    await expect(memory.flush()).resolves.toBeUndefined()
    await expect(memory.close()).resolves.toBeUndefined()
    const error = await memory.add('c', { role: 'user', content: 'late' }).catch((e: unknown) => e)
    expect(isMemoryError(error) && error.code === 'closed').toBe(true)
    expect((error as Error).message).toContain('the store is closed')
    expect((error as { details: unknown }).details).toEqual({ state: 'closed' })
  })

  it('after destroy(): flush() rejects with closed, since what was pending was dropped', async () => {
    const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false, flushIntervalMs: 60_000 })
    const pending = memory.add('c', { role: 'user', content: 'dropped' })
    await memory.destroy()
    await pending.catch(() => undefined)
    const error = await memory.flush().catch((e: unknown) => e)
    expect(isMemoryError(error) && error.code === 'closed').toBe(true)
    expect((error as Error).message).toContain('destroyed')
    expect((error as Error).message).toContain('close()')
    expect((error as { details: unknown }).details).toEqual({ state: 'destroyed' })
    await expect(memory.destroy()).resolves.toBeUndefined()
  })
})
