import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { estimateTokens, type Message, openMemory } from '@taurobot/memory'
import { runBench } from './lib/bench.js'
import { italianSentences } from './lib/italian.js'
import { row } from './lib/result.js'
import { spreadText, summarize } from './lib/stats.js'

const MESSAGES = 1000
const MAX_TOKENS = 3000

/** The naive way: read the whole conversation, then count from the newest back. */
function newestWithin(all: Message[], maxTokens: number): Message[] {
  let used = 0
  let from = all.length
  while (from > 0) {
    const tokens = estimateTokens(`${all[from - 1]?.role}: ${all[from - 1]?.content}`)
    if (used + tokens > maxTokens && from < all.length) break
    used += tokens
    from--
  }
  return all.slice(from)
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'history() within a token budget',
  claim: `history(id, { maxTokens: ${MAX_TOKENS} }) p99 ≤ 0.2 ms on a conversation of ${MESSAGES.toLocaleString('en')} messages, counting with the default estimate.`,
  notCovered: [
    'The file backend (the default), whose reads are served from memory; SQLite and Redis add a query per window read.',
    'The default estimate as counter; a real tokenizer passed as countTokens costs what it costs per message.',
    'Italian replies of one or two sentences (about 20 tokens each), so the budget holds about 150 messages.',
  ],
  async run(ctx) {
    const samples = ctx.quick ? 2_000 : 20_000
    const memory = await openMemory({ path: join(ctx.tmpDir, 'conversations.json'), flushOnExit: false })
    const sentences = italianSentences(100)
    for (let i = 0; i < MESSAGES; i++) {
      await memory.add('chat', {
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: sentences[i % 100] as string,
      })
    }
    await memory.flush()
    const budgeted = await memory.history('chat', { maxTokens: MAX_TOKENS })
    const naive = newestWithin(await memory.history('chat'), MAX_TOKENS)
    if (budgeted.length !== naive.length) {
      throw new Error(
        `history({ maxTokens }) returned ${budgeted.length} messages, the naive way ${naive.length}`,
      )
    }
    ctx.log(`${budgeted.length} of ${MESSAGES} messages fit ${MAX_TOKENS} tokens`)
    const time = async (read: () => Promise<unknown>): Promise<number[]> => {
      // Past the JIT tiers: the quick run has too few samples to leave them out of its p99.
      for (let i = 0; i < 2000; i++) await read()
      const out: number[] = []
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now()
        await read()
        out.push(performance.now() - t0)
      }
      return out
    }
    const after = await time(() => memory.history('chat', { maxTokens: MAX_TOKENS }))
    const before = await time(async () => newestWithin(await memory.history('chat'), MAX_TOKENS))
    await memory.close()
    const a = summarize(after)
    const b = summarize(before)
    ctx.log(
      `budgeted p50 ${a.median.toFixed(3)} ms p99 ${a.p99.toFixed(3)}; whole read p50 ${b.median.toFixed(3)} p99 ${b.p99.toFixed(3)}`,
    )
    return {
      rows: [
        row({
          operation: `history({ maxTokens: ${MAX_TOKENS} }) p99, ${MESSAGES} messages`,
          unit: 'ms',
          better: 'lower',
          before: b.p99,
          after: a.p99,
          spread: spreadText(after, 'calls'),
          target: { op: '<=', value: 0.2 },
        }),
        row({
          operation: `history({ maxTokens: ${MAX_TOKENS} }) p50, ${MESSAGES} messages`,
          unit: 'ms',
          better: 'lower',
          before: b.median,
          after: a.median,
        }),
      ],
      notes: [
        `"before" reads the whole conversation with history() and counts from the newest back; "after" reads windows of 64, then 256 messages from the end. Both return the same ${budgeted.length} messages.`,
      ],
    }
  },
})
