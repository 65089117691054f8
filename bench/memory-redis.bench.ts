import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { runBench } from './lib/bench.js'
import {
  MEMORY_ENTRY,
  MEMORY_REDIS_ENTRY,
  type MemoryModule,
  type RedisMemoryModule,
} from './lib/contracts.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'
import { type ChatEvent, chatTraffic, userId } from './lib/workload.js'
import { RedisPerMessageHistory } from './peers/redis-per-message.js'

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const USERS = 50
const PER_USER = 100

interface Writer {
  add(e: ChatEvent): Promise<unknown>
  /** Resolves once everything acknowledged is in Redis. */
  settle(): Promise<void>
  close(): Promise<void>
  saves(): number
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'Redis backend: batched vs one command per message',
  claim:
    'For 50 users × 100 messages, the Redis backend in batched mode needs ≥ 5× fewer Redis commands and reaches ≥ 3× the throughput of one RPUSH per message (the LangChain-style history).',
  requires: [{ module: '@taurobot/memory/redis', export: 'redisBackend' }],
  async ready() {
    const client = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    try {
      await client.connect()
      await client.ping()
      return null
    } catch (error) {
      return `no Redis answers at ${URL} (${error instanceof Error ? error.message : String(error)})`
    } finally {
      client.disconnect()
    }
  },
  notCovered: [
    'Redis persistence (AOF/RDB) and replication: the Redis server’s settings are whatever the machine has.',
    'Network latency: Redis on loopback; a remote Redis widens the gap, since per-message stores pay one round trip per message.',
    'Reads (history): both read one list per conversation.',
  ],
  async run(ctx) {
    const { openMemory } = (await import(MEMORY_ENTRY)) as MemoryModule
    const { redisBackend } = (await import(MEMORY_REDIS_ENTRY)) as RedisMemoryModule
    const runId = `taurobot-bench:${process.pid}:${Date.now()}`
    const admin = new Redis(URL)
    const events = chatTraffic(USERS, PER_USER, 17)
    let instance = 0

    const makeOurs = async (durability: 'batched' | 'strict'): Promise<Writer> => {
      const memory = await openMemory({
        backend: redisBackend({ url: URL, keyPrefix: `${runId}:ours${instance++}:` }),
        durability,
        flushOnExit: false,
      })
      let saves = 0
      memory.on?.('save', () => saves++)
      return {
        add: (e) => memory.add(userId(e.user), { role: e.role, content: e.content }),
        settle: () => memory.flush(),
        close: () => memory.close(),
        saves: () => saves,
      }
    }
    const makePeer = async (): Promise<Writer> => {
      const client = new Redis(URL)
      const history = new RedisPerMessageHistory(client, `${runId}:peer${instance++}:`)
      let saves = 0
      return {
        add: async (e) => {
          await history.addMessage(userId(e.user), { role: e.role, content: e.content })
          saves += 1
        },
        settle: async () => {},
        close: async () => {
          client.disconnect()
        },
        saves: () => saves,
      }
    }
    // Each user's messages are sent in order by its own writer; users run concurrently.
    const drive = async (writer: Writer): Promise<number> => {
      const perUser = new Map<number, ChatEvent[]>()
      for (const e of events) {
        const list = perUser.get(e.user) ?? []
        list.push(e)
        perUser.set(e.user, list)
      }
      const t0 = performance.now()
      await Promise.all(
        [...perUser.values()].map(async (list) => {
          for (const e of list) await writer.add(e)
        }),
      )
      await writer.settle()
      return events.length / ((performance.now() - t0) / 1000)
    }

    const reps = ctx.quick ? 3 : 7
    const rates = { batched: [] as number[], strict: [] as number[], peer: [] as number[] }
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of ['peer', 'batched', 'strict'] as const) {
        const writer = kind === 'peer' ? await makePeer() : await makeOurs(kind)
        rates[kind].push(await drive(writer))
        await writer.close()
      }
    }

    // Commands are counted by the server (MONITOR), on the connections that touched this run's keys.
    const commands = { batched: 0, strict: 0, peer: 0 }
    const saves = { batched: 0, strict: 0, peer: 0 }
    for (const kind of ['peer', 'batched', 'strict'] as const) {
      const monitor = await admin.monitor()
      const prefix = `${runId}:${kind === 'peer' ? 'peer' : 'ours'}${instance}:`
      const sources = new Set<string>()
      const bySource = new Map<string, number>()
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        bySource.set(source, (bySource.get(source) ?? 0) + 1)
        if (args.some((a) => a.startsWith(prefix) || a.includes(`{${prefix}`))) sources.add(source)
      })
      const writer = kind === 'peer' ? await makePeer() : await makeOurs(kind)
      await drive(writer)
      await writer.close()
      await new Promise((r) => setTimeout(r, 200))
      monitor.disconnect()
      commands[kind] = [...sources].reduce((n, s) => n + (bySource.get(s) ?? 0), 0)
      saves[kind] = writer.saves()
      ctx.log(`${kind}: ${commands[kind]} commands from ${sources.size} connections, ${saves[kind]} writes`)
    }
    // Clean up this run's keys only.
    let cursor = '0'
    do {
      const [nextCursor, keys] = await admin.scan(cursor, 'MATCH', `*${runId}*`, 'COUNT', 1000)
      cursor = nextCursor
      if (keys.length > 0) await admin.del(...keys)
    } while (cursor !== '0')
    admin.disconnect()

    const per100 = 100 / events.length
    return {
      rows: [
        row({
          operation: 'messages/s, 50 users × 100 messages',
          unit: 'msg/s',
          better: 'higher',
          before: median(rates.peer),
          after: median(rates.batched),
          peers: { '@taurobot/memory strict': median(rates.strict) },
          spread: spreadText(rates.batched),
          target: { op: '>=', value: 3 * median(rates.peer) },
        }),
        row({
          operation: 'Redis commands per 100 messages',
          unit: 'count',
          better: 'lower',
          before: commands.peer * per100,
          after: commands.batched * per100,
          peers: { '@taurobot/memory strict': commands.strict * per100 },
          target: { op: '<=', value: (commands.peer * per100) / 5 },
        }),
        row({
          operation: 'writes (one pipeline each) per 100 messages',
          unit: 'count',
          better: 'lower',
          before: saves.peer * per100,
          after: saves.batched * per100,
          peers: { '@taurobot/memory strict': saves.strict * per100 },
        }),
      ],
      notes: [
        `before = one RPUSH per message (LangChain-style history), each add awaited; after = @taurobot/memory with the Redis backend, batched (default saveEvery), flush() awaited at the end. 50 users write concurrently, each in order. Throughput: median of ${reps} runs, alternating. Commands: counted with MONITOR on the connections that touched the run's keys (MULTI/EXEC and scripts included), in a separate pass.`,
        'Targets for this claim are relative: ≥ 3× the per-message throughput and ≤ 1/5 of its commands, computed from the same run.',
      ],
    }
  },
})
