import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ensureBuilt, IN_CI, packageDir } from '../../helpers.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './cluster-servers.js'

const unavailable = await redisUnavailable()

interface Reply {
  n: number
  ok: boolean
  result?: unknown
  error?: string
}

/** A store in a child process running the built package. */
class Peer {
  private next = 1
  private readonly waiting = new Map<number, (reply: Reply) => void>()
  private ready: Promise<void>

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    let started: () => void = () => undefined
    this.ready = new Promise((resolve) => {
      started = resolve
    })
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as Reply & { ready?: boolean }
      if (reply.ready) return started()
      this.waiting.get(reply.n)?.(reply)
      this.waiting.delete(reply.n)
    })
  }

  static async start(label: string, keyPrefix: string, durability: 'batched' | 'strict'): Promise<Peer> {
    const child = spawn(
      process.execPath,
      [join(packageDir, 'test', 'fixtures', 'redis-peer.mjs'), REDIS_URL, keyPrefix, durability],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    )
    const peer = new Peer(child, label)
    await peer.ready
    return peer
  }

  async call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const n = this.next++
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting.set(n, resolve)
      this.child.stdin?.write(`${JSON.stringify({ n, op, ...args })}\n`)
    })
    if (!reply.ok) throw new Error(`${this.label} ${op}: ${reply.error}`)
    return reply.result as T
  }

  async contents(id: string): Promise<string[]> {
    return (await this.call<Array<{ content: string }>>('history', { id })).map((m) => m.content)
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    await this.call('close').catch(() => undefined)
    this.child.stdin?.end()
    await exited
  }
}

if (unavailable !== undefined) {
  if (IN_CI) {
    it('Redis answers at REDIS_URL (required when CI=true)', () => {
      throw new Error(unavailable)
    })
  } else {
    it.skip(`Redis multi-process tests skipped: ${unavailable}`, () => undefined)
  }
} else {
  const keyPrefix = `taurobot-test:${randomUUID()}:`
  const admin = new Redis(REDIS_URL)
  let a: Peer
  let b: Peer
  let c: Peer

  beforeAll(async () => {
    ensureBuilt('redis.js')
    ;[a, b, c] = await Promise.all([
      Peer.start('A (strict)', keyPrefix, 'strict'),
      Peer.start('B (batched)', keyPrefix, 'batched'),
      Peer.start('C (strict)', keyPrefix, 'strict'),
    ])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()])
    await deleteKeys(admin, keyPrefix)
    admin.disconnect()
  }, 30_000)

  it('stores in separate processes see each other’s messages, in order per conversation', async () => {
    await a.call('add', { id: 42, content: 'a1' })
    expect(await b.contents('42')).toEqual(['a1'])
    // A batched add is visible to the others once written.
    await b.call('add', { id: '42', content: 'b1' })
    expect(await b.contents('42')).toEqual(['a1', 'b1'])
    expect(await c.contents('42')).toEqual(['a1'])
    await b.call('flush')
    expect(await c.contents('42')).toEqual(['a1', 'b1'])
    await c.call('add', { id: 42, content: 'c1' })
    await a.call('add', { id: 42, content: 'a2' })
    for (const peer of [a, b, c]) expect(await peer.contents('42')).toEqual(['a1', 'b1', 'c1', 'a2'])
  })

  it('concurrent writers in three processes: every message once, each writer’s in its order', async () => {
    await Promise.all([
      a.call('addMany', { id: 'shared', tag: 'A', count: 40 }),
      b.call('addMany', { id: 'shared', tag: 'B', count: 40 }),
      c.call('addMany', { id: 'shared', tag: 'C', count: 40 }),
    ])
    await b.call('flush')
    const seen = await c.contents('shared')
    expect(seen.length).toBe(120)
    for (const tag of ['A', 'B', 'C']) {
      expect(seen.filter((s) => s.startsWith(`${tag}:`))).toEqual(
        Array.from({ length: 40 }, (_, i) => `${tag}:${i}`),
      )
    }
    expect(await a.contents('shared')).toEqual(seen)
  })

  it('clear and prune in one process are seen by the others', async () => {
    await a.call('add', { id: 'gone', content: 'x' })
    await a.call('add', { id: 'old', content: 'y', timestamp: '2020-01-01T00:00:00.000Z' })
    expect(await c.contents('gone')).toEqual(['x'])
    expect(await b.call('clear', { id: 'gone' })).toBe(true)
    expect(await c.contents('gone')).toEqual([])
    expect(await a.contents('gone')).toEqual([])
    expect(await c.call('prune', { days: 30 })).toBe(1)
    expect(await a.contents('old')).toEqual([])
    const stats = await b.call<{ conversations: number; messages: number }>('stats')
    expect([stats.conversations, stats.messages]).toEqual([2, 124])
  })

  it('a strict add resolves only once Redis has the message: it survives a SIGKILL of its process', async () => {
    const d = await Peer.start('D (strict)', keyPrefix, 'strict')
    await d.call('add', { id: 'durable', content: 'kept' })
    const exited = new Promise((resolve) => d.child.once('exit', resolve))
    d.child.kill('SIGKILL')
    await exited
    expect(await b.contents('durable')).toEqual(['kept'])
  })
}
