// The diagnostics channels with real backends: what each publishes, when, and that no payload
// carries a message or a conversation id.
import { AsyncLocalStorage } from 'node:async_hooks'
import { execFileSync } from 'node:child_process'
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Backend,
  fileBackend,
  isMemoryError,
  type MemoryCompactionEvent,
  MemoryError,
  type MemoryErrorEvent,
  type MemoryOpenEvent,
  type MemorySaveContext,
  memoryBackend,
  memoryChannels,
  openMemory,
  type SaveInfo,
} from '../src/index.js'
import { sqliteBackend } from '../src/sqlite.js'
import { ensureBuilt, packageDir, testScratch } from './helpers.js'

const { fresh, open } = testScratch()

const SAVE_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const
const CHANNELS = [
  ...SAVE_EVENTS.map((event) => `tracing:${memoryChannels.save}:${event}`),
  memoryChannels.compaction,
  memoryChannels.error,
  memoryChannels.open,
  memoryChannels.close,
]

interface Seen {
  name: string
  payload: Record<string, unknown>
  /** The payload as it was when published (the save context gains fields as the write goes on). */
  snapshot: Record<string, unknown>
}

/** Subscribes to every channel of the package; unsubscribed after the test. */
function listen(): Seen[] {
  const seen: Seen[] = []
  const handlers = CHANNELS.map((name) => {
    const handler = (payload: unknown) => {
      const record = payload as Record<string, unknown>
      seen.push({ name, payload: record, snapshot: { ...record } })
    }
    subscribe(name, handler)
    return [name, handler] as const
  })
  stopListening.push(() => {
    for (const [name, handler] of handlers) unsubscribe(name, handler)
  })
  return seen
}
const stopListening: Array<() => void> = []
afterEach(() => {
  for (const stop of stopListening.splice(0)) stop()
})

const named = (seen: Seen[], name: string) => seen.filter((entry) => entry.name === name)
const saveEvent = (event: (typeof SAVE_EVENTS)[number]) => `tracing:${memoryChannels.save}:${event}`

/** Makes the first write of a process fail for real: a directory stands where `.bak` must be renamed to. */
async function blockBackup(path: string): Promise<void> {
  const first = await openMemory({ path, flushOnExit: false })
  await first.add('a', { role: 'user', content: 'before' })
  await first.close()
  await mkdir(`${path}.bak`)
  await writeFile(join(`${path}.bak`, 'occupied'), 'x')
}

/** Throws when any payload seen, printed whole, shows one of `secrets`. */
function expectNoSecrets(seen: Seen[], secrets: string[]): void {
  for (const { name, payload } of seen) {
    const text = inspect(payload, { depth: Number.POSITIVE_INFINITY, showHidden: true })
    for (const secret of secrets) expect(text, `${name} shows ${secret}`).not.toContain(secret)
  }
}

describe('taurobot:memory:save (a tracing channel around every backend write)', () => {
  it('file backend, batched: one trace per write with its counts, bytes as the save event reports them', async () => {
    const seen = listen()
    const saves: SaveInfo[] = []
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({
      path,
      saveEvery: 3,
      flushIntervalMs: 60_000,
      onSave: (i) => void saves.push(i),
    })
    await memory.add('chat-1001', { role: 'user', content: 'secret one' })
    await memory.add('chat-1001', { role: 'assistant', content: 'secret two' })
    await memory.add('chat-2002', { role: 'user', content: 'secret three' })
    await memory.flush()
    await memory.add('chat-2002', { role: 'user', content: 'secret four' })
    await memory.flush()

    const starts = named(seen, saveEvent('start'))
    expect(starts.map((s) => s.snapshot)).toEqual([
      { store: expect.any(Number), backend: 'file', mode: 'batched', conversations: 2, messages: 3 },
      { store: expect.any(Number), backend: 'file', mode: 'batched', conversations: 1, messages: 1 },
    ])
    // The same context object travels from start to asyncEnd, completed once the write is done.
    const ends = named(seen, saveEvent('asyncEnd'))
    expect(ends.map((e) => e.payload)).toEqual(starts.map((s) => s.payload))
    expect(ends.map((e) => [e.snapshot.written, e.snapshot.bytes])).toEqual(
      saves.map((s) => [s.messages, s.bytes]),
    )
    for (const end of ends) expect(end.snapshot.durationMs).toBeGreaterThanOrEqual(0)
    expect(named(seen, saveEvent('end'))).toHaveLength(2)
    expect(named(seen, saveEvent('asyncStart'))).toHaveLength(2)
    expect(named(seen, saveEvent('error'))).toHaveLength(0)
    expect(saves.every((s) => s.bytes > 0)).toBe(true)
    expectNoSecrets(seen, ['chat-1001', 'chat-2002', 'secret'])
  })

  it('strict mode is named; upserts and removes count as changes', async () => {
    const seen = listen()
    const memory = await open({ backend: memoryBackend(), durability: 'strict' })
    const stored = await memory.add('c', { role: 'user', content: 'x' })
    await memory.upsert('c', { id: stored.id, role: 'user', content: 'y' })
    await memory.remove('c', stored.id)
    const starts = named(seen, saveEvent('start')).map((s) => s.snapshot)
    expect(starts).toEqual([
      { store: expect.any(Number), backend: 'memory', mode: 'strict', conversations: 1, messages: 1 },
      { store: expect.any(Number), backend: 'memory', mode: 'strict', conversations: 1, messages: 1 },
      { store: expect.any(Number), backend: 'memory', mode: 'strict', conversations: 1, messages: 1 },
    ])
    expect(named(seen, saveEvent('asyncEnd')).map((e) => e.snapshot.written)).toEqual([1, 1, 1])
  })

  it('SQLite backend: counts and bytes as its save event reports them', async () => {
    const seen = listen()
    const saves: SaveInfo[] = []
    const path = join(await fresh(), 'conversations.db')
    const memory = await open({
      backend: sqliteBackend({ path }),
      saveEvery: 100,
      flushIntervalMs: 60_000,
      onSave: (i) => void saves.push(i),
    })
    for (let i = 0; i < 5; i++) await memory.add(`chat-${i % 2}`, { role: 'user', content: `m${i}` })
    await memory.flush()
    const [start] = named(seen, saveEvent('start'))
    expect(start?.snapshot).toMatchObject({ backend: 'sqlite', conversations: 2, messages: 5 })
    const [end] = named(seen, saveEvent('asyncEnd'))
    expect(end?.snapshot).toMatchObject({ written: 5, bytes: saves[0]?.bytes })
  })

  it('a failed write: the error event with the code the store reports, then asyncStart and asyncEnd', async () => {
    const path = join(await fresh(), 'conversations.json')
    await blockBackup(path)
    const seen = listen()
    const memory = await open({ path, saveEvery: 1000, flushIntervalMs: 60_000 })
    await memory.add('chat-3003', { role: 'user', content: 'secret five' })
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    const trace = seen.filter((entry) => entry.name.startsWith('tracing:')).map((entry) => entry.name)
    expect(trace).toEqual(
      ['start', 'end', 'error', 'asyncStart', 'asyncEnd'].map((e) => saveEvent(e as never)),
    )
    const failed = named(seen, saveEvent('error'))[0]?.payload as unknown as MemorySaveContext
    expect(failed.code).toBe('io')
    expect(isMemoryError(failed.error, 'io')).toBe(true)
    expect(failed.written).toBeUndefined()
    expect(failed.bytes).toBeUndefined()
    expect(failed.durationMs).toBeGreaterThanOrEqual(0)
  })
})

describe('taurobot:memory:save with only its outcome listened to (asyncEnd and error, as the exporter does)', () => {
  /** Subscribes to the save trace's `events` only; unsubscribed after the test. */
  function listenTo(events: ReadonlyArray<(typeof SAVE_EVENTS)[number]>, seen: Seen[] = []): Seen[] {
    for (const event of events) {
      const name = saveEvent(event)
      const handler = (payload: unknown) => {
        const record = payload as Record<string, unknown>
        seen.push({ name, payload: record, snapshot: { ...record } })
      }
      subscribe(name, handler)
      stopListening.push(() => unsubscribe(name, handler))
    }
    return seen
  }

  /** Adds, upserts and removes in a strict in-process store; the asyncEnd payloads, store left out. */
  async function strictRun(seen: Seen[]): Promise<Array<Record<string, unknown>>> {
    const memory = await open({ backend: memoryBackend(), durability: 'strict' })
    const stored = await memory.add('c', { role: 'user', content: 'x' })
    await memory.add('d', { role: 'user', content: 'y' })
    await memory.upsert('c', { id: stored.id, role: 'user', content: 'z' })
    await memory.remove('c', stored.id)
    return named(seen, saveEvent('asyncEnd')).map(({ snapshot }) => {
      const { store, durationMs, ...rest } = snapshot
      expect(store).toBe(named(seen, saveEvent('asyncEnd'))[0]?.snapshot.store)
      expect(durationMs).toBeGreaterThanOrEqual(0)
      return rest
    })
  }

  it('each write ends with the same payload as under the whole trace', async () => {
    const whole = await strictRun(listen())
    for (const stop of stopListening.splice(0)) stop()
    const outcome = await strictRun(listenTo(['asyncEnd', 'error']))
    expect(whole).toHaveLength(4)
    expect(outcome).toEqual(whole)
    // Every field, `result` too (left undefined, as tracePromise() leaves it), in the same order.
    expect(outcome.map((payload) => Object.keys(payload))).toEqual(
      whole.map((payload) => Object.keys(payload)),
    )
  })

  it('a failed write: error, then asyncEnd, on the same context, before the caller sees the failure', async () => {
    const path = join(await fresh(), 'conversations.json')
    await blockBackup(path)
    const seen = listenTo(['asyncEnd', 'error'])
    const memory = await open({ path, saveEvery: 1000, flushIntervalMs: 60_000 })
    await memory.add('chat-3003', { role: 'user', content: 'secret five' })
    await expect(
      memory.flush().catch((error: unknown) => {
        seen.push({ name: 'rejected', payload: {}, snapshot: {} })
        throw error
      }),
    ).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    expect(seen.map((entry) => entry.name)).toEqual([saveEvent('error'), saveEvent('asyncEnd'), 'rejected'])
    const [failed, ended] = seen
    expect(ended?.payload).toBe(failed?.payload)
    const context = failed?.payload as unknown as MemorySaveContext
    expect(context.code).toBe('io')
    expect(isMemoryError(context.error, 'io')).toBe(true)
    expect(context.written).toBeUndefined()
    expect(context.bytes).toBeUndefined()
    expect(context.durationMs).toBeGreaterThanOrEqual(0)
    expect(Object.keys(failed?.snapshot ?? {})).not.toContain('result')
    expectNoSecrets(seen, ['chat-3003', 'secret'])
  })

  it('a store bound to start still runs the backend call in the whole trace, with the context as its store', async () => {
    const als = new AsyncLocalStorage<unknown>()
    const start = channel(saveEvent('start'))
    start.bindStore(als)
    stopListening.push(() => void start.unbindStore(als))
    const seen = listenTo(['asyncEnd'])
    const inner = memoryBackend()
    const inStore: unknown[] = []
    const backend: Backend = {
      ...inner,
      open: (context) => inner.open(context),
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
      append: (batch) => {
        inStore.push(als.getStore())
        return inner.append(batch)
      },
    }
    const memory = await open({ backend, durability: 'strict' })
    await memory.add('c', { role: 'user', content: 'x' })
    await memory.add('c', { role: 'user', content: 'y' })
    expect(inStore).toHaveLength(2)
    expect(inStore).toEqual(named(seen, saveEvent('asyncEnd')).map((entry) => entry.payload))
    expect(inStore[0]).toBe(named(seen, saveEvent('asyncEnd'))[0]?.payload)
  })

  /** An in-process backend whose append calls `during` first; its throws fail the write. */
  function backendCalling(during: () => void): Backend {
    const inner = memoryBackend()
    return {
      ...inner,
      open: (context) => inner.open(context),
      read: (id, limit) => inner.read(id, limit),
      clear: (id) => inner.clear(id),
      conversations: () => inner.conversations(),
      close: () => inner.close(),
      append: (batch) => {
        during()
        return inner.append(batch)
      },
    }
  }

  it('calls the backend outside tracePromise(): that is the point of tracing by outcome only', async () => {
    listenTo(['asyncEnd', 'error'])
    const stacks: string[] = []
    const memory = await open({
      backend: backendCalling(() => {
        const limit = Error.stackTraceLimit
        Error.stackTraceLimit = 100
        stacks.push(new Error('where').stack ?? '')
        Error.stackTraceLimit = limit
      }),
      durability: 'strict',
    })
    await memory.add('c', { role: 'user', content: 'x' })
    // The same store with a start subscriber: the call is inside tracePromise(), as the check sees.
    listenTo(['start'])
    await memory.add('c', { role: 'user', content: 'y' })
    expect(stacks).toHaveLength(2)
    expect(stacks[0]).not.toContain('tracePromise')
    expect(stacks[1]).toContain('tracePromise')
  })

  it('a subscriber to asyncStart added while a write runs gets asyncStart then asyncEnd, as from tracePromise()', async () => {
    // An APM tool attached while a write runs: tracePromise() would give it asyncStart before
    // asyncEnd (and error before both), as Node documents for every traced promise.
    const seen = listenTo(['asyncEnd', 'error'])
    let fail = false
    const memory = await open({
      backend: backendCalling(() => {
        listenTo(['asyncStart'], seen)
        if (fail) throw new MemoryError('io', 'the disk is gone')
      }),
      durability: 'strict',
    })
    await memory.add('c', { role: 'user', content: 'x' })
    for (const stop of stopListening.splice(0)) stop()
    listenTo(['asyncEnd', 'error'], seen)
    fail = true
    await expect(memory.add('c', { role: 'user', content: 'y' })).rejects.toSatisfy((error) =>
      isMemoryError(error, 'io'),
    )
    expect(seen.map((entry) => entry.name)).toEqual([
      saveEvent('asyncStart'),
      saveEvent('asyncEnd'),
      saveEvent('error'),
      saveEvent('asyncStart'),
      saveEvent('asyncEnd'),
    ])
    expect(seen[0]?.payload).toBe(seen[1]?.payload)
    expect(seen[2]?.payload).toBe(seen[4]?.payload)
  })
})

describe('taurobot:memory:error', () => {
  it('publishes each error the store reports in the background, with its code; a rejected flush() is not one', async () => {
    const errors: unknown[] = []
    const path = join(await fresh(), 'conversations.json')
    await blockBackup(path)
    const seen = listen()
    const memory = await open({ path, saveEvery: 2, flushIntervalMs: 60_000, onError: (e) => errors.push(e) })
    await memory.add('chat-4004', { role: 'user', content: 'secret six' })
    await memory.add('chat-4004', { role: 'user', content: 'secret seven' })
    for (let tries = 0; errors.length === 0 && tries < 500; tries++)
      await new Promise((r) => setTimeout(r, 10))
    await expect(memory.flush()).rejects.toThrow(/EISDIR/)
    expect(errors).toHaveLength(1)
    const events = named(seen, memoryChannels.error).map((e) => e.payload as unknown as MemoryErrorEvent)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ backend: 'file', code: 'io' })
    expect(events[0]?.error).toBe(errors[0])
    // Two failed writes were traced: the background one and the flush.
    expect(named(seen, saveEvent('error'))).toHaveLength(2)
    await rm(`${path}.bak`, { recursive: true })
    await memory.flush()
    expect(named(seen, saveEvent('asyncEnd')).at(-1)?.snapshot).toMatchObject({ written: 2, messages: 2 })
  })
})

describe('taurobot:memory:open, taurobot:memory:close', () => {
  it('each store has its own number, the same in all of its payloads', async () => {
    const seen = listen()
    const a = await open({ backend: memoryBackend() })
    const b = await open({ backend: memoryBackend(), durability: 'strict' })
    const opened = named(seen, memoryChannels.open).map((e) => e.payload as unknown as MemoryOpenEvent)
    expect(opened).toEqual([
      { store: expect.any(Number), backend: 'memory', mode: 'batched' },
      { store: expect.any(Number), backend: 'memory', mode: 'strict' },
    ])
    const [first, second] = opened as [MemoryOpenEvent, MemoryOpenEvent]
    expect(second.store).toBeGreaterThan(first.store)
    await a.add('x', { role: 'user', content: 'x' })
    await b.add('x', { role: 'user', content: 'x' })
    await a.close()
    await a.close()
    await b.destroy()
    expect(named(seen, memoryChannels.close).map((e) => e.payload)).toEqual([
      { store: first.store, backend: 'memory', destroyed: false },
      { store: second.store, backend: 'memory', destroyed: true },
    ])
    // b is strict: its write comes first; a's is made by close().
    expect(named(seen, saveEvent('start')).map((e) => e.payload.store)).toEqual([second.store, first.store])
  })
})

describe('taurobot:memory:compaction', () => {
  it('one event per snapshot rewrite of the file backend, as many as stats() counts, with the snapshot size', async () => {
    const seen = listen()
    const path = join(await fresh(), 'conversations.json')
    const backend = fileBackend({ path, compactionMinBytes: 0, compactionRatio: 1, compactionWorker: false })
    const memory = await open({ backend, saveEvery: 1 })
    const opened = named(seen, memoryChannels.open)[0]?.payload as unknown as MemoryOpenEvent
    for (let i = 0; i < 20; i++) await memory.add('chat-5005', { role: 'user', content: `secret ${i}` })
    await memory.flush()
    // Rewrites run in the background: wait for one. The event is published in the same step as
    // the counter grows, so the two agree whenever they are read.
    let stats = await memory.stats()
    for (let tries = 0; (stats.compactions ?? 0) === 0 && tries < 1000; tries++) {
      await new Promise((r) => setTimeout(r, 10))
      stats = await memory.stats()
    }
    const events = named(seen, memoryChannels.compaction).map(
      (e) => e.payload as unknown as MemoryCompactionEvent,
    )
    expect(stats.compactions).toBeGreaterThan(0)
    expect(events).toHaveLength(stats.compactions as number)
    for (const event of events) {
      expect(event).toMatchObject({ store: opened.store, backend: 'file', background: true })
      expect(event.bytes).toBeGreaterThan(0)
      expect(event.durationMs).toBeGreaterThanOrEqual(0)
    }
    expect(events.at(-1)?.bytes).toBe(stats.snapshotBytes)
    await memory.close()
    const atClose = named(seen, memoryChannels.compaction).slice(events.length)
    for (const event of atClose) expect(event.payload).toMatchObject({ background: false })
    expectNoSecrets(seen, ['chat-5005', 'secret'])
  })
})

describe('no subscriber', () => {
  it('nothing of the package listens on its own channels', async () => {
    const memory = await open({ backend: memoryBackend(), saveEvery: 1 })
    await memory.add('x', { role: 'user', content: 'x' })
    await memory.close()
    for (const name of CHANNELS) expect(channel(name).hasSubscribers, name).toBe(false)
  })
})

describe('the built package', () => {
  it('CommonJS publishes on the same channels; a store of the CommonJS build is tracked by the ESM exporter', () => {
    ensureBuilt('index.cjs')
    ensureBuilt('metrics.js')
    const script = `
      import { subscribe } from 'node:diagnostics_channel'
      import { createRequire } from 'node:module'
      const require = createRequire(${JSON.stringify(join(packageDir, 'package.json'))})
      const { openMemory, memoryBackend } = require('./dist/index.cjs')
      const { registerMemoryMetrics } = await import('./dist/metrics.js')
      const { Registry } = require('prom-client')
      const starts = []
      subscribe('tracing:taurobot:memory:save:start', (context) => starts.push(context.messages))
      const registry = new Registry()
      const metrics = registerMemoryMetrics({ registry })
      const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
      metrics.track(memory, { store: 'cjs' })
      await memory.add('x', { role: 'user', content: 'a' })
      await memory.add('y', { role: 'user', content: 'b' })
      await memory.close()
      const text = await registry.metrics()
      console.log(JSON.stringify({ starts, line: text.split('\\n').find((l) => l.startsWith('taurobot_memory_messages_written_total{')) }))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
      encoding: 'utf8',
    })
    expect(JSON.parse(out)).toEqual({
      starts: [2],
      line: 'taurobot_memory_messages_written_total{store="cjs"} 2',
    })
  })
})
