import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { openMemory } from '@taurobot/memory'
import { redisBackend } from '@taurobot/memory/redis'
import { Redis } from 'ioredis'
import { runBench } from './lib/bench.js'
import { redisReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'
import { averageMessageBytes, type ChatEvent, chatTraffic, userId } from './lib/workload.js'
import { RedisPerMessageHistory } from './peers/redis-per-message.js'

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const USERS = 50
const PER_USER = 100
/** Messages of history per conversation for the storage rows. */
const HISTORIES = [10, 100, 1000] as const

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
    'For 50 users × 100 messages, the Redis backend in batched mode needs ≥ 5× fewer Redis commands and reaches ≥ 3× the throughput of one RPUSH per message (the LangChain-style history); the bytes it keeps in Redis per message stay the same at 10, 100 and 1000 messages of history per conversation.',
  ready: () => redisReady(URL),
  notCovered: [
    'Redis persistence (AOF/RDB) and replication: the Redis server’s settings are whatever the machine has.',
    'Network latency: Redis on loopback; a remote Redis widens the gap, since per-message stores pay one round trip per message.',
    'Reads (history): both read one list per conversation.',
  ],
  async run(ctx) {
    const runId = `taurobot-bench:${process.pid}:${Date.now()}`
    const admin = new Redis(URL)
    const events = chatTraffic(USERS, PER_USER, 17)
    let instance = 0

    const makeOurs = async (
      durability: 'batched' | 'strict',
      keyPrefix = `${runId}:ours${instance++}:`,
    ): Promise<Writer> => {
      const memory = await openMemory({
        backend: redisBackend({ url: URL, keyPrefix }),
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
    const makePeer = async (keyPrefix = `${runId}:peer${instance++}:`): Promise<Writer> => {
      const client = new Redis(URL)
      // Connected before the clock starts, as the store is once openMemory() resolves.
      if (client.status !== 'ready') await once(client, 'ready')
      const history = new RedisPerMessageHistory(client, keyPrefix)
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
    const drive = async (writer: Writer, traffic: readonly ChatEvent[] = events): Promise<number> => {
      const perUser = new Map<number, ChatEvent[]>()
      for (const e of traffic) {
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
      return traffic.length / ((performance.now() - t0) / 1000)
    }

    // A run of either kind takes well under a second, and the machine is shared: more runs give a
    // steadier median on both sides.
    const reps = ctx.quick ? 3 : 11
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
      // ioredis misreads MONITOR lines that arrive just before the connection is in monitoring
      // mode or as it closes (its "Command queue state error", an 'error' event): other clients of
      // a shared server keep them coming. Only an error while this run's commands are counted
      // makes the count doubtful.
      const monitor = admin.duplicate({ monitor: true, lazyConnect: true })
      let counting = false
      const monitorErrors: Error[] = []
      monitor.on('error', (error: Error) => {
        if (counting) monitorErrors.push(error)
      })
      const monitoring = new Promise((resolve) => monitor.once('monitoring', resolve))
      await monitor.connect()
      await monitoring
      counting = true
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
      counting = false
      monitor.disconnect()
      if (monitorErrors.length > 0) {
        throw new Error(`MONITOR lost lines while counting commands: ${monitorErrors[0]?.message}`)
      }
      commands[kind] = [...sources].reduce((n, s) => n + (bySource.get(s) ?? 0), 0)
      saves[kind] = writer.saves()
      ctx.log(`${kind}: ${commands[kind]} commands from ${sources.size} connections, ${saves[kind]} writes`)
    }
    // Storage: what Redis itself reports for every key a store created (MEMORY USAGE with
    // SAMPLES 0 counts every element, not an estimate), over the messages written. Per-key
    // figures, not used_memory deltas: other clients share the server. Each store gets its own
    // prefix, listed with SCAN on that prefix only.
    const keysUnder = async (prefix: string): Promise<string[]> => {
      const found: string[] = []
      let at = '0'
      do {
        const [next, keys] = await admin.scan(at, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000)
        at = next
        found.push(...keys)
      } while (at !== '0')
      return found
    }
    const stored = { ours: [] as number[], peer: [] as number[] }
    const perConversation = { ours: [] as number[], peer: [] as number[] }
    const itemBytes = { ours: [] as number[], peer: [] as number[] }
    const messageBytes: number[] = []
    for (const history of HISTORIES) {
      // The same conversations at every length, so the backend's per-bucket keys are shared alike.
      const users = ctx.quick ? 10 : USERS
      const traffic = chatTraffic(users, history, 100 + history)
      messageBytes.push(averageMessageBytes(traffic))
      for (const kind of ['peer', 'ours'] as const) {
        const prefix = `${runId}:bytes-${kind}-${history}:`
        const writer = kind === 'peer' ? await makePeer(prefix) : await makeOurs('batched', prefix)
        let keys: string[] = []
        let total = 0
        let items = 0
        let itemTotal = 0
        try {
          // In rounds that each end with a flush, so batched adds stay under the maxPending limit.
          for (let at = 0; at < traffic.length; at += 5000) await drive(writer, traffic.slice(at, at + 5000))
          await writer.close()
          keys = await keysUnder(prefix)
          const usage = await Promise.all(
            keys.map(async (key) => Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0)),
          )
          total = usage.reduce((a, b) => a + b, 0)
          // The stored JSON items themselves, read back from the conversation lists.
          for (const key of keys) {
            if ((await admin.type(key)) !== 'list') continue
            for (const item of await admin.lrange(key, 0, -1)) {
              items += 1
              itemTotal += Buffer.byteLength(item)
            }
          }
        } finally {
          const left = await keysUnder(prefix)
          if (left.length > 0) await admin.del(...left)
        }
        if (items !== traffic.length) {
          throw new Error(`${kind} at ${history} messages: ${items} items stored, ${traffic.length} written`)
        }
        stored[kind].push(total / traffic.length)
        perConversation[kind].push(total / users)
        itemBytes[kind].push(itemTotal / items)
        ctx.log(
          `${kind}, ${users} conversations × ${history}: ${keys.length} keys, ${total} B, ${(total / traffic.length).toFixed(1)} B/message, items ${(itemTotal / items).toFixed(1)} B`,
        )
      }
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
        ...HISTORIES.map((history, i) =>
          row({
            operation: `bytes in Redis per message, ${history} messages per conversation`,
            unit: 'B',
            better: 'lower',
            before: stored.peer[i] ?? null,
            after: stored.ours[i] ?? null,
            peers: { 'message serialized on its own': messageBytes[i] ?? null },
          }),
        ),
        row({
          operation: 'stored JSON item per message',
          unit: 'B',
          better: 'lower',
          before: mean(itemBytes.peer),
          after: mean(itemBytes.ours),
          peers: { 'message serialized on its own': mean(messageBytes) },
        }),
        row({
          operation: 'bytes in Redis per message, 1000 ÷ 10 messages per conversation',
          unit: '×',
          better: 'lower',
          after: ratio(stored.ours),
          peers: { 'one RPUSH per message': ratio(stored.peer) },
          target: { op: '<=', value: 1.25 },
        }),
        row({
          operation: 'bytes in Redis per added message (10 → 1000 messages per conversation)',
          unit: 'B',
          better: 'lower',
          before: fit(perConversation.peer).perMessage,
          after: fit(perConversation.ours).perMessage,
          peers: { 'message serialized on its own': mean(messageBytes) },
        }),
        row({
          operation: 'fixed bytes in Redis per conversation',
          unit: 'B',
          better: 'lower',
          before: fit(perConversation.peer).fixed,
          after: fit(perConversation.ours).fixed,
        }),
      ],
      notes: [
        `before = one RPUSH per message (LangChain-style history), each add awaited; after = @taurobot/memory with the Redis backend, batched (default saveEvery), flush() awaited at the end. 50 users write concurrently, each in order; both are connected before the clock starts. Throughput: median of ${reps} runs, alternating. Commands: counted with MONITOR on the connections that touched the run's keys (MULTI/EXEC and scripts included), in a separate pass.`,
        'Targets for this claim are relative: ≥ 3× the per-message throughput and ≤ 1/5 of its commands, computed from the same run.',
        `Storage: for each length (${HISTORIES.join(', ')} messages), a fresh store writes that many messages to each of ${ctx.quick ? 10 : USERS} conversations under its own key prefix; then MEMORY USAGE (SAMPLES 0) is summed over every key under that prefix (lists, the backend's index and timestamp keys, writer keys) and divided by the messages written. "message serialized on its own" is the compact JSON of role, content and timestamp; the ratio of Redis bytes to it is ${HISTORIES.map((h, i) => `${((stored.ours[i] ?? 0) / (messageBytes[i] ?? 1)).toFixed(2)} at ${h}`).join(', ')} for @taurobot/memory, ${HISTORIES.map((h, i) => `${((stored.peer[i] ?? 0) / (messageBytes[i] ?? 1)).toFixed(2)} at ${h}`).join(', ')} for one RPUSH per message. The 1000 ÷ 10 row divides bytes per message at 1000 by bytes per message at 10: ≤ 1 means the cost per message does not grow with history (below 1, a conversation's fixed keys and index entries are shared by more messages). "per added message" and "fixed per conversation" split the bytes of one conversation into a + b × messages, from the 10- and 1000-message figures. Storage is deterministic (one pass).`,
      ],
    }
  },
})

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length
}

/** Bytes per message at the longest history over bytes per message at the shortest. */
function ratio(perMessage: readonly number[]): number | null {
  const first = perMessage[0]
  const last = perMessage[perMessage.length - 1]
  return first === undefined || last === undefined || first === 0 ? null : last / first
}

/**
 * Splits the bytes of one conversation into a fixed part and a part per message, from the
 * shortest and the longest history measured.
 */
function fit(perConversation: readonly number[]): { fixed: number | null; perMessage: number | null } {
  const first = perConversation[0]
  const last = perConversation[perConversation.length - 1]
  const h0 = HISTORIES[0]
  const h1 = HISTORIES[HISTORIES.length - 1] as number
  if (first === undefined || last === undefined) return { fixed: null, perMessage: null }
  const perMessage = (last - first) / (h1 - h0)
  return { fixed: first - perMessage * h0, perMessage }
}
