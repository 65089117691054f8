// The Prometheus exporter with real backends and a real prom-client Registry: exact counts after a
// scripted run, errors by code from a real fault, no conversation id in the output, and nothing
// left subscribed or registered after dispose().
import { randomUUID } from 'node:crypto'
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import * as client from 'prom-client'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisLayout } from '../src/backends/redis/layout.js'
import { type MemorySaveContext, STORE_PROBE, type StoreProbe } from '../src/diagnostics.js'
import {
  type Backend,
  isMemoryError,
  type Memory,
  MemoryError,
  memoryBackend,
  memoryChannels,
  openMemory,
  type SaveInfo,
} from '../src/index.js'
import { type MemoryMetrics, registerMemoryMetrics } from '../src/metrics.js'
import { redisBackend } from '../src/redis.js'
import { sqliteBackend } from '../src/sqlite.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './backends/redis/cluster-servers.js'
import { IN_CI, testScratch } from './helpers.js'

const { fresh, open } = testScratch()

const CHANNELS = [
  ...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map(
    (event) => `tracing:${memoryChannels.save}:${event}`,
  ),
  memoryChannels.compaction,
  memoryChannels.error,
  memoryChannels.open,
  memoryChannels.close,
]

const registered: MemoryMetrics[] = []
afterEach(() => {
  for (const metrics of registered.splice(0)) metrics.dispose()
})

function metricsIn(registry: Registry, options: Record<string, unknown> = {}): MemoryMetrics {
  const metrics = registerMemoryMetrics({ registry, ...options })
  registered.push(metrics)
  return metrics
}

/** The value of each sample line of the exposition text, by series (`name{labels}`). */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const values = new Map<string, number>()
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    values.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return values
}

/** Makes the first write of a process fail for real: a directory stands where `.bak` must be renamed to. */
async function blockBackup(path: string): Promise<void> {
  const first = await openMemory({ path, flushOnExit: false })
  await first.add('a', { role: 'user', content: 'before' })
  await first.close()
  await mkdir(`${path}.bak`)
  await writeFile(join(`${path}.bak`, 'occupied'), 'x')
}

/**
 * The scripted run: 3 messages (a write of 3 at saveEvery), 3 more flushed together, then 2 left
 * pending. Returns what the store's own save event reported.
 */
async function script(memory: Memory): Promise<SaveInfo[]> {
  const saves: SaveInfo[] = []
  memory.on('save', (info) => saves.push(info))
  await memory.add('chat-1001', { role: 'user', content: 'private one' })
  await memory.add('chat-1001', { role: 'assistant', content: 'private two' })
  await memory.add('chat-2002', { role: 'user', content: 'private three' })
  await memory.flush()
  await memory.add('chat-2002', { role: 'user', content: 'private four' })
  await memory.add('chat-3003', { role: 'user', content: 'private five' })
  await memory.add('chat-1001', { role: 'user', content: 'private six' })
  await memory.flush()
  await memory.add('chat-4004', { role: 'user', content: 'private seven' })
  await memory.add('chat-4004', { role: 'user', content: 'private eight' })
  return saves
}

function expectNoIds(text: string): void {
  for (const secret of ['chat-', 'private']) expect(text).not.toContain(secret)
  // The ids' digits as a token of their own: a measured duration such as 0.0020023 holds "2002"
  // among its digits, and that is no leak.
  for (const digits of ['1001', '2002', '3003', '4004'])
    expect(text).not.toMatch(new RegExp(`(?<![\\d.])${digits}(?![\\d.])`))
}

describe.each([
  { name: 'file', make: (dir: string) => ({ path: join(dir, 'conversations.json') }) },
  {
    name: 'sqlite',
    make: (dir: string) => ({ backend: sqliteBackend({ path: join(dir, 'conversations.db') }) }),
  },
])('registerMemoryMetrics with the $name backend', ({ make }) => {
  it('after a scripted run the exposition has the exact counts, and no conversation id', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const memory = await open({ ...make(await fresh()), saveEvery: 3, flushIntervalMs: 60_000 })
    metrics.track(memory, { store: 'chats' })
    const saves = await script(memory)
    expect(saves.map((s) => s.messages)).toEqual([3, 3])
    const values = await samples(registry)
    expect(values.get('taurobot_memory_saves_total{store="chats"}')).toBe(2)
    expect(values.get('taurobot_memory_messages_written_total{store="chats"}')).toBe(6)
    expect(values.get('taurobot_memory_bytes_written_total{store="chats"}')).toBe(
      (saves[0]?.bytes ?? 0) + (saves[1]?.bytes ?? 0),
    )
    expect(values.get('taurobot_memory_save_duration_seconds_count{store="chats"}')).toBe(2)
    expect(values.get('taurobot_memory_save_duration_seconds_bucket{le="+Inf",store="chats"}')).toBe(2)
    expect(values.get('taurobot_memory_pending_messages{store="chats"}')).toBe(2)
    expect(values.get('taurobot_memory_compactions_total{store="chats"}')).toBe(
      (await memory.stats()).compactions ?? 0,
    )
    expect([...values.keys()].filter((key) => key.includes('errors_total'))).toEqual([])
    expectNoIds(await registry.metrics())
    await memory.close()
    const after = await samples(registry)
    expect(after.get('taurobot_memory_pending_messages{store="chats"}')).toBe(0)
    expect(after.get('taurobot_memory_saves_total{store="chats"}')).toBe(3)
    expect(after.get('taurobot_memory_messages_written_total{store="chats"}')).toBe(8)
  })
})

describe('errors', () => {
  it('a real write fault: errors_total counts the background failure, save_errors_total every failed write, by code', async () => {
    const path = join(await fresh(), 'conversations.json')
    await blockBackup(path)
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const errors: unknown[] = []
    const memory = await open({ path, saveEvery: 2, flushIntervalMs: 60_000, onError: (e) => errors.push(e) })
    metrics.track(memory, { store: 'chats' })
    await memory.add('chat-1001', { role: 'user', content: 'private one' })
    await memory.add('chat-1001', { role: 'user', content: 'private two' })
    for (let tries = 0; errors.length === 0 && tries < 500; tries++)
      await new Promise((r) => setTimeout(r, 10))
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    let values = await samples(registry)
    expect(values.get('taurobot_memory_errors_total{store="chats",code="io"}')).toBe(1)
    expect(values.get('taurobot_memory_save_errors_total{store="chats",code="io"}')).toBe(2)
    expect(values.get('taurobot_memory_saves_total{store="chats"}')).toBe(0)
    expect(values.get('taurobot_memory_pending_messages{store="chats"}')).toBe(2)
    expectNoIds(await registry.metrics())
    // The fault goes away: the retry is counted as a save of both messages.
    await rm(`${path}.bak`, { recursive: true })
    await memory.flush()
    values = await samples(registry)
    expect(values.get('taurobot_memory_saves_total{store="chats"}')).toBe(1)
    expect(values.get('taurobot_memory_messages_written_total{store="chats"}')).toBe(2)
    expect(values.get('taurobot_memory_pending_messages{store="chats"}')).toBe(0)
    expect(values.get('taurobot_memory_errors_total{store="chats",code="io"}')).toBe(1)
  })

  it('a custom backend\'s own code, unknown to this package, is counted as code="other"', async () => {
    const inner = memoryBackend()
    const failing: Backend = {
      ...inner,
      name: 'custom',
      open: (context) => inner.open(context),
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
      append: async () => {
        throw new MemoryError('chat-1001 quota' as never, 'the custom store refused the write.')
      },
    }
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const memory = await open({ backend: failing, durability: 'strict' })
    metrics.track(memory, { store: 'custom' })
    await expect(memory.add('chat-1001', { role: 'user', content: 'x' })).rejects.toThrow(/refused/)
    const values = await samples(registry)
    expect(values.get('taurobot_memory_save_errors_total{store="custom",code="other"}')).toBe(1)
    expectNoIds(await registry.metrics())
  })
})

describe('several stores', () => {
  it('one registration serves every store, each under its own label; untracked stores are not counted', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const dir = await fresh()
    const chats = await open({ path: join(dir, 'chats.json'), saveEvery: 1 })
    const web = await open({ backend: sqliteBackend({ path: join(dir, 'web.db') }), durability: 'strict' })
    const other = await open({ backend: memoryBackend(), saveEvery: 1 })
    metrics.track(chats, { store: 'chats' })
    const stopWeb = metrics.track(web, { store: 'web' })
    await chats.add('a', { role: 'user', content: 'x' })
    await chats.flush()
    for (let i = 0; i < 3; i++) await web.add('b', { role: 'user', content: `y${i}` })
    await other.add('c', { role: 'user', content: 'z' })
    await other.flush()
    let values = await samples(registry)
    expect(values.get('taurobot_memory_saves_total{store="chats"}')).toBe(1)
    expect(values.get('taurobot_memory_saves_total{store="web"}')).toBe(3)
    expect([...values.keys()].filter((key) => key.startsWith('taurobot_memory_saves_total'))).toHaveLength(2)
    // Once untracked: its counters keep their values and stop, its pending series goes.
    stopWeb()
    stopWeb()
    await web.add('b', { role: 'user', content: 'y3' })
    values = await samples(registry)
    expect(values.get('taurobot_memory_saves_total{store="web"}')).toBe(3)
    expect(values.has('taurobot_memory_pending_messages{store="web"}')).toBe(false)
    expect(values.get('taurobot_memory_pending_messages{store="chats"}')).toBe(0)
    // The name is free again.
    metrics.track(other, { store: 'web' })
  })
})

describe('save_duration_seconds', () => {
  const NAME = 'taurobot_memory_save_duration_seconds'
  const HELP = 'Wall-clock duration of the backend writes that succeeded, in seconds.'
  const SAVE_END = `tracing:${memoryChannels.save}:asyncEnd`

  // The exporter's default buckets, as its documentation gives them.
  const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

  /** prom-client's own histogram, fed with observe(): what the exporter's exposition must equal. */
  function reference(buckets = DEFAULT_BUCKETS) {
    const registry = new Registry()
    const histogram = new client.Histogram({
      name: NAME,
      help: HELP,
      labelNames: ['store'],
      registers: [registry],
      buckets,
    })
    return { registry, histogram, text: () => registry.getSingleMetricAsString(NAME) }
  }

  const idOf = (memory: Memory) => (memory as unknown as { [STORE_PROBE]: StoreProbe })[STORE_PROBE].id

  /** Publishes the end of a write of `memory` that took `durationMs`, as the store does. */
  function wrote(memory: Memory, durationMs: number, code?: 'io'): void {
    const context: MemorySaveContext = {
      store: idOf(memory),
      backend: 'memory',
      mode: 'strict',
      conversations: 1,
      messages: 1,
      written: 1,
      bytes: 10,
      durationMs,
      ...(code === undefined ? {} : { code }),
    }
    channel(SAVE_END).publish(context)
  }

  it('is what observe() makes of the same durations: two stores, scrape after scrape, untracked', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const expected = reference()
    const text = () => registry.getSingleMetricAsString(NAME)
    const a = await open({ backend: memoryBackend() })
    const b = await open({ backend: memoryBackend() })
    const c = await open({ backend: memoryBackend() })
    metrics.track(a, { store: 'a' })
    const stopB = metrics.track(b, { store: 'b' })
    metrics.track(c, { store: 'c' })
    for (const store of ['a', 'b', 'c']) expected.histogram.zero({ store })
    expect(await text()).toBe(await expected.text())
    const write = (memory: Memory, store: string, durations: number[]) => {
      for (const ms of durations) {
        wrote(memory, ms)
        expected.histogram.observe({ store }, ms / 1000)
      }
    }
    // On a bound (0.5 ms is le="0.0005"), between, above the last bound, zero; sums that do not
    // come out round in binary.
    write(a, 'a', [0.3, 0.5, 0.50001, 0.7, 1, 2.5, 0.1, 0.2, 3000, 0])
    write(b, 'b', [0.1, 10, 2500, 2500.0001, 0.3])
    write(c, 'c', [1])
    expect(await text()).toBe(await expected.text())
    // A scrape with no write in between: nothing counted twice.
    expect(await text()).toBe(await expected.text())
    write(a, 'a', [0.4, 0.4, 0.4, 12.5, 0.9])
    write(b, 'b', [0.6])
    // 0.001 + 0.0073 + 0.0006 in that order is 0.0089; adding 0.0079 to 0.001 instead gives
    // 0.008900000000000002: the sum handed over must be the one observe() adds up.
    write(c, 'c', [7.3, 0.6])
    expect(await text()).toBe(await expected.text())
    // A failed write and a store not tracked are not observed.
    wrote(a, 5, 'io')
    const other = await open({ backend: memoryBackend() })
    wrote(other, 5)
    expect(await text()).toBe(await expected.text())
    // Untracked between two scrapes: what it counted since the last one stays in its series.
    write(b, 'b', [0.2, 30, 1.5])
    stopB()
    wrote(b, 7)
    write(a, 'a', [0.05])
    expect(await text()).toBe(await expected.text())
    expect(await text()).toBe(await expected.text())
    const sample = await samples(registry)
    expect(sample.get(`${NAME}_count{store="a"}`)).toBe(16)
    expect(sample.get(`${NAME}_count{store="b"}`)).toBe(9)
    expect(sample.get(`${NAME}_bucket{le="0.0005",store="a"}`)).toBe(9)
  })

  it('real writes, their durations as published, in narrow buckets: the same as observe()', async () => {
    const buckets = [0.000002, 0.000005, 0.00001, 0.00002, 0.00005, 0.0001, 0.001]
    const registry = new Registry()
    const metrics = metricsIn(registry, { buckets })
    const expected = reference(buckets)
    const text = () => registry.getSingleMetricAsString(NAME)
    const chats = await open({ backend: memoryBackend(), durability: 'strict' })
    const web = await open({ backend: memoryBackend(), saveEvery: 2, flushIntervalMs: 60_000 })
    const names = new Map([
      [idOf(chats), 'chats'],
      [idOf(web), 'web'],
    ])
    const stopWeb = metrics.track(web, { store: 'web' })
    metrics.track(chats, { store: 'chats' })
    for (const store of ['web', 'chats']) expected.histogram.zero({ store })
    let tracking = true
    // Subscribed after the exporter: it sees each context once the exporter has counted it.
    const observe = (message: unknown) => {
      const context = message as MemorySaveContext
      const store = names.get(context.store)
      if (store === undefined || context.code !== undefined || (store === 'web' && !tracking)) return
      expected.histogram.observe({ store }, (context.durationMs ?? 0) / 1000)
    }
    subscribe(SAVE_END, observe)
    try {
      const round = async (adds: number) => {
        for (let i = 0; i < adds; i++) {
          await chats.add('a', { role: 'user', content: `c${i}` })
          await web.add(`w${i % 3}`, { role: 'user', content: `w${i}` })
        }
      }
      await round(40)
      expect(await text()).toBe(await expected.text())
      await round(25)
      await web.flush()
      expect(await text()).toBe(await expected.text())
      await round(10)
      await web.flush()
      stopWeb()
      tracking = false
      await round(4)
      await web.flush()
      expect(await text()).toBe(await expected.text())
      const sample = await samples(registry)
      expect(sample.get(`${NAME}_count{store="chats"}`)).toBe(79)
      expect(sample.get(`${NAME}_count{store="web"}`)).toBe(38)
    } finally {
      unsubscribe(SAVE_END, observe)
    }
  })

  it('a prom-client that keeps its series otherwise: each write is observed, with the same exposition', async () => {
    // A Histogram whose series is not made for the label object given to zero(): the layout the
    // exporter checks for is not there, so it falls back to observe() on every write.
    class CopyingHistogram extends client.Histogram<string> {
      override zero(labels: Partial<Record<string, string | number>>): void {
        super.zero({ ...labels })
      }
    }
    const registry = new Registry()
    const metrics = metricsIn(registry, { client: { ...client, Histogram: CopyingHistogram } })
    const expected = reference()
    const memory = await open({ backend: memoryBackend() })
    const stop = metrics.track(memory, { store: 'chats' })
    expected.histogram.zero({ store: 'chats' })
    for (const ms of [0.3, 0.5, 4, 3000]) {
      wrote(memory, ms)
      expected.histogram.observe({ store: 'chats' }, ms / 1000)
    }
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    wrote(memory, 0.2)
    expected.histogram.observe({ store: 'chats' }, 0.0002)
    stop()
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
  })

  it('after registry.resetMetrics(), counts again from the writes that follow, as observe() would', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const expected = reference()
    const memory = await open({ backend: memoryBackend() })
    metrics.track(memory, { store: 'chats' })
    expected.histogram.zero({ store: 'chats' })
    for (const ms of [0.3, 7]) {
      wrote(memory, ms)
      expected.histogram.observe({ store: 'chats' }, ms / 1000)
    }
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    registry.resetMetrics()
    expected.registry.resetMetrics()
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    for (const ms of [0.9, 40]) {
      wrote(memory, ms)
      expected.histogram.observe({ store: 'chats' }, ms / 1000)
    }
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
  })
})

describe('save_duration_seconds, hand-over', () => {
  const NAME = 'taurobot_memory_save_duration_seconds'
  const SAVE_END = `tracing:${memoryChannels.save}:asyncEnd`

  /** prom-client's own histogram, fed with observe(): what the exporter's exposition must equal. */
  function reference() {
    const registry = new Registry()
    const histogram = new client.Histogram({
      name: NAME,
      help: 'Wall-clock duration of the backend writes that succeeded, in seconds.',
      labelNames: ['store'],
      registers: [registry],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    })
    return { registry, histogram, text: () => registry.getSingleMetricAsString(NAME) }
  }

  /** Publishes the end of a successful write of `memory` that took `durationMs`, as the store does. */
  function wrote(memory: Memory, durationMs: number): void {
    const store = (memory as unknown as { [STORE_PROBE]: StoreProbe })[STORE_PROBE].id
    const context: MemorySaveContext = {
      store,
      backend: 'memory',
      mode: 'strict',
      conversations: 1,
      messages: 1,
      written: 1,
      bytes: 10,
      durationMs,
    }
    channel(SAVE_END).publish(context)
  }

  it('no observe() per write: durations wait for the scrape', async () => {
    let observed = 0
    class CountingHistogram extends client.Histogram<string> {
      constructor(configuration: client.HistogramConfiguration<string>) {
        super(configuration)
        const observe = this.observe.bind(this) as (...args: unknown[]) => void
        this.observe = ((...args: unknown[]) => {
          observed++
          observe(...args)
        }) as typeof this.observe
      }
    }
    const registry = new Registry()
    const metrics = metricsIn(registry, { client: { ...client, Histogram: CountingHistogram } })
    const expected = reference()
    const memory = await open({ backend: memoryBackend(), durability: 'strict' })
    metrics.track(memory, { store: 'chats' })
    expected.histogram.zero({ store: 'chats' })
    for (let i = 0; i < 20; i++) {
      await memory.add('c', { role: 'user', content: `m${i}` })
    }
    expect(observed).toBe(0)
    const sample = await samples(registry)
    expect(sample.get(`${NAME}_count{store="chats"}`)).toBe(20)
  })

  it('a store tracked again under its name keeps its histogram, as its counters keep their values', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const expected = reference()
    const memory = await open({ backend: memoryBackend() })
    let stop = metrics.track(memory, { store: 'chats' })
    expected.histogram.zero({ store: 'chats' })
    for (const ms of [0.3, 7, 3000]) {
      wrote(memory, ms)
      expected.histogram.observe({ store: 'chats' }, ms / 1000)
    }
    stop()
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    stop = metrics.track(memory, { store: 'chats' })
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    for (const ms of [0.1, 0.2]) {
      wrote(memory, ms)
      expected.histogram.observe({ store: 'chats' }, ms / 1000)
    }
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    const sample = await samples(registry)
    expect(sample.get(`${NAME}_count{store="chats"}`)).toBe(5)
    expect(sample.get('taurobot_memory_saves_total{store="chats"}')).toBe(5)
  })

  it('after registry.resetMetrics(), _sum is what observe() adds up, to the last digit, scrape after scrape', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry)
    const expected = reference()
    const memory = await open({ backend: memoryBackend() })
    metrics.track(memory, { store: 'chats' })
    expected.histogram.zero({ store: 'chats' })
    const write = (durations: number[]) => {
      for (const ms of durations) {
        wrote(memory, ms)
        expected.histogram.observe({ store: 'chats' }, ms / 1000)
      }
    }
    // A large sum before the reset, small durations after it: subtracting one from the other
    // would lose their last digits.
    write([3000])
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    registry.resetMetrics()
    expected.registry.resetMetrics()
    write([0.1, 0.2])
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
    write([0.3, 0.7])
    expect(await registry.getSingleMetricAsString(NAME)).toBe(await expected.text())
  })
})

describe('dispose', () => {
  it('leaves no listener on any channel and no metric in the registry; the names can be registered again', async () => {
    for (const name of CHANNELS) expect(channel(name).hasSubscribers, name).toBe(false)
    const registry = new Registry()
    const metrics = registerMemoryMetrics({ registry })
    expect(channel(`tracing:${memoryChannels.save}:asyncEnd`).hasSubscribers).toBe(true)
    expect(channel(memoryChannels.error).hasSubscribers).toBe(true)
    const memory = await open({ backend: memoryBackend(), saveEvery: 1 })
    metrics.track(memory, { store: 'chats' })
    await memory.add('a', { role: 'user', content: 'x' })
    await memory.flush()
    metrics.dispose()
    metrics.dispose()
    for (const name of CHANNELS) expect(channel(name).hasSubscribers, name).toBe(false)
    expect((await registry.metrics()).trim()).toBe('')
    expect(() => metrics.track(memory, { store: 'chats' })).toThrow(MemoryError)
    const again = metricsIn(registry)
    again.track(memory, { store: 'chats' })
    await memory.add('a', { role: 'user', content: 'y' })
    await memory.flush()
    expect((await samples(registry)).get('taurobot_memory_saves_total{store="chats"}')).toBe(1)
  })
})

describe('Symbol.dispose', () => {
  it('is dispose(): a `using` block leaves nothing subscribed or registered', () => {
    const registry = new Registry()
    {
      using metrics = registerMemoryMetrics({ registry })
      expect(metrics[Symbol.dispose]).toBe(metrics.dispose)
      expect(channel(memoryChannels.error).hasSubscribers).toBe(true)
    }
    for (const name of CHANNELS) expect(channel(name).hasSubscribers, name).toBe(false)
    expect(registry.getSingleMetric('taurobot_memory_saves_total')).toBeUndefined()
  })
})

describe('options', () => {
  it('prefix, buckets and client are used', async () => {
    const registry = new Registry()
    const metrics = metricsIn(registry, { prefix: 'bot_', buckets: [0.5, 10], client })
    const memory = await open({ backend: memoryBackend(), saveEvery: 1 })
    metrics.track(memory, { store: 'chats' })
    await memory.add('a', { role: 'user', content: 'x' })
    await memory.flush()
    const values = await samples(registry)
    expect(values.get('bot_saves_total{store="chats"}')).toBe(1)
    expect(values.get('bot_save_duration_seconds_bucket{le="10",store="chats"}')).toBe(1)
    expect(
      [...values.keys()].filter((key) => key.startsWith('bot_save_duration_seconds_bucket')),
    ).toHaveLength(3)
  })

  it("the default registry is prom-client's global one", async () => {
    const metrics = registerMemoryMetrics()
    registered.push(metrics)
    expect(client.register.getSingleMetric('taurobot_memory_saves_total')).toBeDefined()
    metrics.dispose()
    expect(client.register.getSingleMetric('taurobot_memory_saves_total')).toBeUndefined()
  })

  it.each([
    [{ prefix: 1 }, TypeError, 'prefix must be a string, got 1'],
    [{ prefix: '1x_' }, RangeError, 'prefix must start a Prometheus metric name'],
    [{ prefix: 'a-b' }, RangeError, 'got "a-b"'],
    [{ buckets: [] }, TypeError, 'buckets must be a non-empty array of numbers'],
    [{ buckets: [1, 0.5] }, RangeError, 'in ascending order, got'],
    [{ buckets: [0, 1] }, RangeError, 'finite positive numbers'],
    [{ client: {} }, TypeError, 'client must be the prom-client module'],
    [{ registry: {} }, TypeError, 'registry must be a prom-client Registry'],
    [{ store: 'chats' }, TypeError, 'unknown option "store"'],
  ])('refuses %o', (options, type, message) => {
    expect(() => registerMemoryMetrics({ registry: new Registry(), ...(options as object) })).toThrow(type)
    expect(() => registerMemoryMetrics({ registry: new Registry(), ...(options as object) })).toThrow(message)
  })

  it('refuses a registry that already holds these metrics, naming the metric', () => {
    const registry = new Registry()
    metricsIn(registry)
    expect(() => registerMemoryMetrics({ registry })).toThrow(
      /already holds a metric named taurobot_memory_saves_total: dispose\(\) the metrics registered before/,
    )
    metricsIn(registry, { prefix: 'second_' })
  })
})

describe('track() refuses', () => {
  it.each([
    [undefined, TypeError, 'store must be a string, got undefined'],
    [{ store: '' }, RangeError, 'store must be 1 to 64 letters'],
    [{ store: 'two words' }, RangeError, 'got "two words"'],
    [{ store: 'x'.repeat(65) }, RangeError, 'store must be 1 to 64'],
    [{ store: 'chats', label: 'x' }, TypeError, 'unknown option "label"'],
  ])('%o', async (options, type, message) => {
    const metrics = metricsIn(new Registry())
    const memory = await open({ backend: memoryBackend() })
    expect(() => metrics.track(memory, options as never)).toThrow(type)
    expect(() => metrics.track(memory, options as never)).toThrow(message)
  })

  it('what is not a store, a store tracked twice, a name given twice', async () => {
    const metrics = metricsIn(new Registry())
    expect(() => metrics.track({} as Memory, { store: 'x' })).toThrow(
      'memory must be a store returned by openMemory(), got',
    )
    const a = await open({ backend: memoryBackend() })
    const b = await open({ backend: memoryBackend() })
    metrics.track(a, { store: 'a' })
    expect(() => metrics.track(a, { store: 'b' })).toThrow('this store is already tracked as store "a"')
    expect(() => metrics.track(b, { store: 'a' })).toThrow('store "a" already names another store')
  })
})

const noRedis = await redisUnavailable()

describe.skipIf(noRedis !== undefined && !IN_CI)(
  `a conversation the backend refuses (Redis)${noRedis === undefined ? '' : ` (skipped: ${noRedis})`}`,
  () => {
    it('the write counts only the changes stored; the refusal is an error with its code', async () => {
      const keyPrefix = `taurobot-metrics-test:${randomUUID()}:`
      const admin = new Redis(REDIS_URL)
      try {
        // A string where the conversation's list must be: Redis refuses that conversation only.
        const layout = new RedisLayout(keyPrefix, 16)
        await admin.set(layout.messages(layout.bucketOf('chat-9009'), 'chat-9009'), 'a string')
        const registry = new Registry()
        const metrics = metricsIn(registry)
        const errors: unknown[] = []
        const memory = await open({
          backend: redisBackend({ url: REDIS_URL, keyPrefix }),
          saveEvery: 100,
          flushIntervalMs: 60_000,
          onError: (error) => errors.push(error),
        })
        metrics.track(memory, { store: 'redis' })
        await memory.add('chat-1001', { role: 'user', content: 'private one' })
        await memory.add('chat-1001', { role: 'user', content: 'private two' })
        await memory.add('chat-9009', { role: 'user', content: 'private nine' })
        await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
        expect(errors.map((error) => isMemoryError(error, 'corrupt'))).toEqual([true])
        const values = await samples(registry)
        expect(values.get('taurobot_memory_saves_total{store="redis"}')).toBe(1)
        expect(values.get('taurobot_memory_messages_written_total{store="redis"}')).toBe(2)
        expect(values.get('taurobot_memory_errors_total{store="redis",code="corrupt"}')).toBe(1)
        expect([...values.keys()].filter((key) => key.includes('save_errors_total'))).toEqual([])
        expectNoIds(await registry.metrics())
        await memory.close()
      } finally {
        await deleteKeys(admin, keyPrefix)
        admin.disconnect()
      }
    })
  },
)
