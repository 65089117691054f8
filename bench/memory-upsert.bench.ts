import { fileURLToPath } from 'node:url'
import type { Backend, BatchEntry, Message } from '@taurobot/memory'
import { redisBackend } from '@taurobot/memory/redis'
import { Redis } from 'ioredis'
import { runBench } from './lib/bench.js'
import { redisReady } from './lib/ready.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Messages of history in the conversation. */
const HISTORIES = [10, 100, 1000] as const
const CONTENT = 'Ciao! Come stai oggi? Tutto bene, grazie, e tu? '.repeat(2)

function message(id: string, content = CONTENT): Message {
  return { role: 'assistant', content, timestamp: new Date().toISOString(), id }
}

/**
 * The naive upsert on a Redis list, as it is usually written: read the whole list, parse it, find
 * the id in Node, then LSET it (or RPUSH and LTRIM): two round trips and the whole history over the
 * wire, not atomic. What the backend would do if its script did not search the list itself.
 */
async function naiveUpsert(client: Redis, key: string, next: Message, max: number): Promise<void> {
  const items = await client.lrange(key, 0, -1)
  let at = -1
  for (let i = items.length - 1; i >= 0; i--) {
    if ((JSON.parse(items[i] as string) as Message).id === next.id) {
      at = i
      break
    }
  }
  if (at >= 0) await client.lset(key, at, JSON.stringify(next))
  else await client.multi().rpush(key, JSON.stringify(next)).ltrim(key, -max, -1).exec()
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'Redis backend: upsert by message id',
  claim:
    'On Redis, upserting the newest message of a conversation (a streamed reply) costs about the same at 10, 100 and 1000 messages of history (≤ 1.5× from 10 to 1000), since the script reads only the newest items; an upsert of an id the conversation lacks reads the whole list in the script, and costs less than the naive read-parse-write from Node at 1000 messages.',
  ready: () => redisReady(URL),
  notCovered: [
    'Batching: each upsert is its own backend write here, as a strict store makes them; in batched mode several upserts share one script call.',
    'Network latency: Redis on loopback. Across a network the naive version pays a second round trip and the whole history over the wire.',
    'Atomicity: the naive version is not atomic (another writer may change the list between its read and its write); the backend is.',
  ],
  async run(ctx) {
    const runId = `taurobot-bench:${process.pid}:${Date.now()}`
    const admin = new Redis(URL)
    const rounds = ctx.quick ? 50 : 300
    interface Level {
      history: number
      backend: Backend
      naiveKey: string
      newestId: string
      naiveNewestId: string
      times: { newest: number[]; unknown: number[]; naiveNewest: number[]; naiveUnknown: number[] }
    }
    const levels: Level[] = []
    for (const history of HISTORIES) {
      const keyPrefix = `${runId}:${history}:`
      const backend: Backend = redisBackend({ url: URL, keyPrefix })
      await backend.open({ maxMessages: history, warn: () => undefined, recovered: () => undefined })
      const ids = Array.from({ length: history }, (_, i) => `m${i}`)
      await backend.append([{ id: 'ours', messages: ids.map((id) => message(id)) }])
      // The naive version on a plain list holding the same items.
      const naiveKey = `${keyPrefix}naive`
      await admin.rpush(naiveKey, ...ids.map((id) => JSON.stringify(message(id))))
      const times = { newest: [], unknown: [], naiveNewest: [], naiveUnknown: [] }
      levels.push({
        history,
        backend,
        naiveKey,
        newestId: ids[ids.length - 1] as string,
        naiveNewestId: ids[ids.length - 1] as string,
        times,
      })
    }
    const upsert = (m: Message): BatchEntry => ({
      id: 'ours',
      messages: [],
      operations: [{ op: 'upsert', message: m }],
    })
    const timed = async (into: number[], run: () => Promise<unknown>): Promise<void> => {
      const t0 = performance.now()
      await run()
      into.push((performance.now() - t0) * 1000)
    }
    // Every variant at every history length in each round, so that the machine's load, which
    // changes from second to second on a shared machine, hits them all alike; lengths and
    // variants take turns at going first, which costs more (after another connection's work).
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < levels.length; turn++) {
        const level = levels[(round + turn) % levels.length] as Level
        const { backend, naiveKey, times, history } = level
        const fresh = `new-${round}`
        const steps = [
          () =>
            timed(times.newest, () =>
              backend.append([upsert(message(level.newestId, `${CONTENT}${round}`))]),
            ),
          () =>
            timed(times.naiveNewest, () =>
              naiveUpsert(admin, naiveKey, message(level.naiveNewestId, `${CONTENT}${round}`), history),
            ),
          () => {
            level.newestId = fresh
            return timed(times.unknown, () => backend.append([upsert(message(fresh))]))
          },
          () => {
            level.naiveNewestId = fresh
            return timed(times.naiveUnknown, () => naiveUpsert(admin, naiveKey, message(fresh), history))
          },
        ]
        for (let i = 0; i < steps.length; i++)
          await (steps[(round + i) % steps.length] as () => Promise<void>)()
      }
    }
    const results = new Map<number, Level['times']>()
    for (const { history, backend, naiveKey, newestId, times } of levels) {
      const stored = await backend.read('ours')
      if (stored.length !== history || stored.at(-1)?.id !== newestId) {
        throw new Error(`at ${history} messages: ${stored.length} stored, newest ${stored.at(-1)?.id}`)
      }
      if ((await admin.llen(naiveKey)) !== history) {
        throw new Error(`naive list at ${history} has the wrong length`)
      }
      await backend.close()
      results.set(history, times)
      ctx.log(
        `${history} messages: newest ${median(times.newest).toFixed(0)} µs (naive ${median(times.naiveNewest).toFixed(0)}), unknown id ${median(times.unknown).toFixed(0)} µs (naive ${median(times.naiveUnknown).toFixed(0)})`,
      )
    }

    let cursor = '0'
    do {
      const [nextCursor, keys] = await admin.scan(cursor, 'MATCH', `*${runId}*`, 'COUNT', 1000)
      cursor = nextCursor
      if (keys.length > 0) await admin.del(...keys)
    } while (cursor !== '0')
    admin.disconnect()

    const rows = []
    for (const [history, times] of results) {
      rows.push(
        row({
          operation: `upsert the newest message, ${history} messages of history`,
          unit: 'µs',
          better: 'lower',
          before: median(times.naiveNewest),
          after: median(times.newest),
          spread: spreadText(times.newest, 'upserts'),
        }),
        row({
          operation: `upsert an id the conversation lacks (appends), ${history} messages of history`,
          unit: 'µs',
          better: 'lower',
          before: median(times.naiveUnknown),
          after: median(times.unknown),
          spread: spreadText(times.unknown, 'upserts'),
        }),
      )
    }
    const first = results.get(10) as { newest: number[] }
    const last = results.get(1000) as { newest: number[] }
    rows.push(
      row({
        operation: 'upsert of the newest message, 1000 vs 10 messages of history',
        unit: '×',
        better: 'lower',
        after: median(last.newest) / median(first.newest),
        target: { op: '<=', value: 1.5 },
      }),
    )
    return {
      rows,
      notes: [
        `Each figure is the median of ${rounds} upserts, one backend write each (its EVALSHA round trip included); "before" is the naive upsert from Node (LRANGE of the whole list, JSON.parse, then LSET or RPUSH + LTRIM).`,
      ],
    }
  },
})
