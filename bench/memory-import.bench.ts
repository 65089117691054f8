import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Memory, type MessageInput, openMemory } from '@taurobot/memory'
import { sqliteBackend } from '@taurobot/memory/sqlite'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

// Importing history: 100 conversations of 1,000 messages each, added the natural way (an
// `await add()` per message) and with one addMany() per conversation, on the file and SQLite
// backends, batched and strict. Each import starts on an empty store and ends with flush().

const CONVERSATIONS = 100
const PER_CONVERSATION = 1000
const CONTENT =
  'Mi puoi consigliare un ristorante a Bologna per stasera? Siamo in quattro e vorremmo mangiare i tortellini.'

type Kind = 'file' | 'sqlite'
type Durability = 'batched' | 'strict'
type Way = 'loop' | 'addMany'

function history(): MessageInput[] {
  return Array.from({ length: PER_CONVERSATION }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `${CONTENT} ${i}`,
  }))
}

async function open(kind: Kind, dir: string, durability: Durability): Promise<Memory> {
  mkdirSync(dir, { recursive: true })
  const options = { durability, maxMessages: PER_CONVERSATION, flushOnExit: false }
  return kind === 'file'
    ? openMemory({ path: join(dir, 'conversations.json'), ...options })
    : openMemory({ backend: sqliteBackend({ path: join(dir, 'conversations.db') }), ...options })
}

/** Messages per second of one import of `conversations` × 1,000 messages into a fresh store. */
async function importRate(
  kind: Kind,
  dir: string,
  durability: Durability,
  way: Way,
  conversations: number,
): Promise<number> {
  const memory = await open(kind, dir, durability)
  const messages = history()
  const started = performance.now()
  for (let c = 0; c < conversations; c++) {
    const id = `imported-${c}`
    if (way === 'addMany') await memory.addMany(id, messages)
    else for (const message of messages) await memory.add(id, message)
  }
  await memory.flush()
  const seconds = (performance.now() - started) / 1000
  const stored = await memory.history(`imported-${conversations - 1}`)
  await memory.close()
  if (stored.length !== PER_CONVERSATION) throw new Error(`${kind} ${way}: ${stored.length} messages stored`)
  return (conversations * PER_CONVERSATION) / seconds
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'importing history: await add() in a loop vs addMany()',
  claim:
    'addMany() imports 100 conversations × 1,000 messages at least as fast as an await add() loop on the file and SQLite backends, and much faster with durability: strict, where the loop pays one durable write per message and addMany() one per conversation.',
  notCovered: [
    'Redis: a round trip per write, so strict adds gain at least as much there; not measured here.',
    'Imports larger than maxPending (10,000) per call: addMany() then waits for writes between parts, as the loop does.',
    'Strict loop in quick mode: 10 conversations instead of 100 (one durable write per message).',
  ],
  async run(ctx) {
    const rounds = ctx.quick ? 1 : 3
    const results = new Map<string, number[]>()
    let n = 0
    for (const kind of ['file', 'sqlite'] as const) {
      for (const durability of ['batched', 'strict'] as const) {
        // The strict loop makes 100,000 durable writes: one round is enough to see it.
        const loopRounds = durability === 'strict' ? 1 : rounds
        for (let round = 0; round < Math.max(rounds, loopRounds); round++) {
          // Each way goes first in turn, so that the machine's load hits both alike.
          const ways: Way[] = round % 2 === 0 ? ['loop', 'addMany'] : ['addMany', 'loop']
          for (const way of ways) {
            if (way === 'loop' && round >= loopRounds) continue
            const conversations = way === 'loop' && durability === 'strict' && ctx.quick ? 10 : CONVERSATIONS
            const rate = await importRate(kind, join(ctx.tmpDir, String(n++)), durability, way, conversations)
            const key = `${kind} ${durability} ${way}`
            results.set(key, [...(results.get(key) ?? []), rate])
            ctx.log(`${key}: ${Math.round(rate)} msg/s`)
          }
        }
      }
    }
    const rate = (key: string) => median(results.get(key) ?? [])
    const rows = []
    for (const kind of ['file', 'sqlite'] as const) {
      for (const durability of ['batched', 'strict'] as const) {
        rows.push(
          row({
            operation: `import ${CONVERSATIONS} × ${PER_CONVERSATION.toLocaleString('en-US')} messages, ${kind} backend, ${durability}: addMany() vs await add() loop`,
            unit: 'msg/s',
            better: 'higher',
            before: rate(`${kind} ${durability} loop`),
            after: rate(`${kind} ${durability} addMany`),
            spread: spreadText(results.get(`${kind} ${durability} addMany`) ?? [], 'imports'),
          }),
        )
      }
    }
    return {
      rows,
      notes: [
        `Each figure is the median of ${rounds} imports into a fresh store (the strict loop: one), timed from the first add to the end of flush(); "before" is \`for (const m of messages) await memory.add(id, m)\`.`,
      ],
    }
  },
})
