import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fileBackend, openMemory } from '@taurobot/memory'
import { type ChatStore, createChatStore } from '@taurobot/memory/ai-sdk'
import { runBench } from './lib/bench.js'
import { formatBytes } from './lib/format.js'
import { readIo } from './lib/proc.js'
import { type Row, row } from './lib/result.js'
import { median } from './lib/stats.js'
import { chatTraffic } from './lib/workload.js'

// The AI SDK's UIMessage, through the entry's types (the bench does not depend on `ai` itself).
type UIMessage = Awaited<ReturnType<ChatStore['loadChat']>>[number]

const CHATS = 10
const NAIVE = 'whole chat file per save'

/** The two messages of one turn, as the AI SDK holds them after the reply streamed. */
function turn(chat: number, n: number, question: string, answer: string): UIMessage[] {
  const createdAt = new Date(Date.UTC(2026, 11, 1, 10, 0, n)).toISOString()
  return [
    {
      id: `u-${chat}-${n}`,
      role: 'user',
      metadata: { createdAt },
      parts: [{ type: 'text', text: question }],
    },
    {
      id: `a-${chat}-${n}`,
      role: 'assistant',
      metadata: { createdAt, model: 'local-model' },
      parts: [{ type: 'step-start' }, { type: 'text', text: answer, state: 'done' }],
    },
  ]
}

interface Sample {
  /** Messages in the chat after this save. */
  length: number
  /** Bytes of the save's new messages, as compact JSON. */
  newBytes: number
  ours: number
  naive: number
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'AI SDK chats: bytes written per saveChat of a growing chat',
  claim:
    'Saving the whole UIMessage array after every turn with @taurobot/memory/ai-sdk writes at most 2× the bytes of the turn’s new messages, whatever the chat’s length; rewriting the chat’s file per save (the AI SDK’s persistence example) writes the whole chat.',
  notCovered: [
    'Edits, regenerations and reordering (rewrites and removals): the bench saves appended turns only, the common case.',
    'Disk-level write amplification (filesystem journal, block rounding): the figure is what the process hands to write().',
    'The whole-file baseline writes with plain writeFile (no temp file, no fsync), as the AI SDK example does; @taurobot/memory flushes durably (O_DSYNC) after every save.',
  ],
  async run(ctx) {
    const turns = ctx.quick ? 150 : 500
    const lengths = ctx.quick ? [10, 100, 300] : [10, 100, 1000]
    const dir = join(ctx.tmpDir, 'ours')
    const naiveDir = join(ctx.tmpDir, 'naive')
    mkdirSync(dir)
    mkdirSync(naiveDir)
    const memory = await openMemory({
      backend: fileBackend({ path: join(dir, 'chats.json') }),
      flushOnExit: false,
    })
    const chats = createChatStore(memory)
    const texts = chatTraffic(1, 2 * turns * CHATS, 11).map((event) => event.content)
    const histories: UIMessage[][] = Array.from({ length: CHATS }, () => [])
    // Warm-up: the first write of a process makes the one-off .bak copy; keep it out.
    await memory.add('warm-up', { role: 'user', content: 'warm-up' })
    await memory.flush()

    const samples: Sample[] = []
    let next = 0
    // Chats take turns, as a bot serving several users; each save goes one at a time, alternating
    // between the two ways so that load hits both alike.
    for (let n = 0; n < turns; n++) {
      for (let chat = 0; chat < CHATS; chat++) {
        const added = turn(chat, n, texts[next++] as string, texts[next++] as string)
        const messages = histories[chat] as UIMessage[]
        messages.push(...added)
        const newBytes = Buffer.byteLength(JSON.stringify(added))

        let io = readIo().wchar
        await chats.saveChat({ chatId: `chat-${chat}`, messages })
        await memory.flush()
        const ours = readIo().wchar - io

        io = readIo().wchar
        writeFileSync(join(naiveDir, `chat-${chat}.json`), JSON.stringify(messages, null, 2))
        const naive = readIo().wchar - io
        samples.push({ length: messages.length, newBytes, ours, naive })
      }
      if (n % 50 === 0) ctx.log(`turn ${n}: ${JSON.stringify(samples.at(-1))}`)
    }
    const stats = await memory.stats()
    await memory.close()

    const rows: Row[] = []
    const ourSeries: Array<number | null> = []
    const naiveSeries: Array<number | null> = []
    for (const length of lengths) {
      // The saves that brought a chat to within 20 messages of this length.
      const window = samples.filter((s) => s.length > length - 20 && s.length <= length)
      const ours = median(window.map((s) => s.ours))
      const naive = median(window.map((s) => s.naive))
      ourSeries.push(ours)
      naiveSeries.push(naive)
      rows.push(
        row({
          operation: `bytes written per saveChat at ${length} messages per chat (median)`,
          unit: 'B',
          better: 'lower',
          before: naive,
          after: ours,
        }),
      )
      rows.push(
        row({
          operation: `saveChat bytes ÷ its new messages' bytes at ${length} messages (median)`,
          unit: '×',
          better: 'lower',
          before: median(window.map((s) => s.naive / s.newBytes)),
          after: median(window.map((s) => s.ours / s.newBytes)),
          target: { op: '<=', value: 2 },
        }),
      )
    }
    const totalOurs = samples.reduce((sum, s) => sum + s.ours, 0)
    const totalNew = samples.reduce((sum, s) => sum + s.newBytes, 0)
    const totalNaive = samples.reduce((sum, s) => sum + s.naive, 0)
    rows.push(
      row({
        operation: `all bytes written ÷ all new messages' bytes, ${samples.length} saves, compaction included`,
        unit: '×',
        better: 'lower',
        before: totalNaive / totalNew,
        after: totalOurs / totalNew,
      }),
    )
    ctx.log(`${samples.length} saves, ${formatBytes(totalOurs)} vs ${formatBytes(totalNaive)}`)
    return {
      rows,
      notes: [
        `${CHATS} chats growing by one turn (a user message and an assistant reply with metadata, step-start and text parts; Italian chat lines) at a time to ${2 * turns} messages each, the whole array saved after every turn and flushed; new messages average ${formatBytes(totalNew / samples.length)} per save as compact JSON.`,
        `Each stored message holds the UIMessage and its text again as content (for history(), context() and token budgets), so its text is written twice.`,
        `@taurobot/memory ran ${stats.compactions ?? 0} snapshot rewrites (compactions) during the run, with default settings; the medians are of saves without one, the last row spreads them over all saves. Bytes counted by the kernel (wchar in /proc/self/io).`,
      ],
      charts: [
        {
          file: 'bench-memory-ai-sdk.svg',
          title: `Bytes written per saveChat of a growing AI SDK chat (${CHATS} chats)`,
          xLabel: 'messages per chat',
          categories: lengths.map(String),
          panels: [
            {
              yLabel: 'bytes written per save',
              unit: 'B',
              logScale: true,
              series: [
                { name: '@taurobot/memory/ai-sdk', values: ourSeries },
                { name: NAIVE, values: naiveSeries },
              ],
            },
          ],
        },
      ],
    }
  },
})
