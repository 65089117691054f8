import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Memory, openMemory } from '@taurobot/memory'
import { registerMemoryMetrics } from '@taurobot/memory/metrics'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { registerVoiceMetrics } from '@taurobot/voice/metrics'
import { TauroBot } from '../examples/bot/src/core.js'
import { BotMetrics } from '../examples/bot/src/metrics.js'
import { RateLimiter } from '../examples/bot/src/rate-limit.js'
import { OfflineResponder } from '../examples/bot/src/responder/offline.js'
import { startWebServer, type WebServer } from '../examples/bot/src/web/server.js'
import { runBench } from './lib/bench.js'
import { type Row, row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'

const docsDir = fileURLToPath(new URL('../docs/', import.meta.url))

/** One web chat on its own store, with or without /metrics and the packages' exporters. */
interface Chat {
  web: WebServer
  memory: Memory
  metrics?: BotMetrics
  close(): Promise<void>
}

async function startChat(dir: string, withMetrics: boolean): Promise<Chat> {
  const memory = await openMemory({ path: join(dir, 'conversations.json'), flushOnExit: false })
  const metrics = withMetrics ? new BotMetrics() : undefined
  const memoryMetrics = metrics ? registerMemoryMetrics({ registry: metrics.registry }) : undefined
  memoryMetrics?.track(memory, { store: 'conversations' })
  const voiceMetrics = metrics ? registerVoiceMetrics({ registry: metrics.registry }) : undefined
  const bot = new TauroBot({
    memory,
    responder: new OfflineResponder(),
    voice: new VoiceSystem({ language: 'en' }),
    ...(metrics ? { onReply: (timing) => metrics.observeReply(timing) } : {}),
  })
  const limiter = () => new RateLimiter({ limit: 1_000_000 })
  const web = await startWebServer({
    bot,
    assets: new Map(),
    rateLimiter: limiter(),
    voiceRateLimiter: limiter(),
    responderName: () => 'offline',
    port: 0,
    ...(metrics ? { metrics } : {}),
    logError: () => {},
  })
  return {
    web,
    memory,
    ...(metrics ? { metrics } : {}),
    async close() {
      await web.close()
      await memory.close()
      memoryMetrics?.dispose()
      voiceMetrics?.dispose()
    },
  }
}

async function post(chat: Chat, path: string, body: unknown): Promise<void> {
  const response = await fetch(new URL(path, chat.web.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`)
  await response.arrayBuffer()
}

/** Milliseconds for one chat message answered, spoken when `user` has voice on. */
async function timedMessage(chat: Chat, user: string, text: string): Promise<number> {
  const t0 = performance.now()
  await post(chat, '/api/chat', { user, text })
  return performance.now() - t0
}

async function scrape(chat: Chat): Promise<string> {
  const response = await fetch(new URL('/metrics', chat.web.url))
  return response.text()
}

/** The sum of every series of `name` in a scrape. */
function total(text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? (\S+)$/.exec(line)
    if (match?.[1] === name) sum += Number(match[2])
  }
  return sum
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'the example bot with /metrics and the packages’ exporters, against the same bot without',
  claim:
    'Serving /metrics (the bot’s HTTP and reply metrics, the store’s and the voice pool’s exporters) costs a chat reply no measurable time, and a scrape takes milliseconds; a short load run draws the chart in docs/metrics.md.',
  notCovered: [
    'A model: replies come from the offline responder, so a reply’s time is the store and, with voice on, the speech synthesis.',
    'Prometheus itself: the scrape is fetched by this process; Prometheus’s own parsing and storage are not measured.',
    'The per-operation cost of the diagnostics channels: memory-diagnostics and voice-diagnostics measure it per add() and per voice task.',
  ],
  async run(ctx) {
    const rounds = ctx.quick ? 5 : 15
    const perRound = 10
    const plain = await startChat(join(ctx.tmpDir, 'plain'), false)
    const measured = await startChat(join(ctx.tmpDir, 'measured'), true)
    const chats = [plain, measured]
    const users = ['bench-user-text', 'bench-user-voice']
    for (const chat of chats) await post(chat, '/api/voice', { user: users[1], on: true })
    // Warm-up: the voice engine loads on its threads, the store opens its journal.
    for (const chat of chats) for (const user of users) await timedMessage(chat, user, 'warming up')

    // Side by side: each round runs both bots, in alternating order, so load hits both alike.
    const ms: Record<'plain' | 'measured', Record<string, number[]>> = {
      plain: { text: [], voice: [] },
      measured: { text: [], voice: [] },
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['plain', 'measured'] as const) : (['measured', 'plain'] as const)
      for (const which of order) {
        const chat = which === 'plain' ? plain : measured
        for (const [kind, user] of [
          ['text', users[0]],
          ['voice', users[1]],
        ] as const) {
          const times: number[] = []
          for (let i = 0; i < perRound; i++)
            times.push(await timedMessage(chat, user as string, `message ${i}`))
          ms[which][kind]?.push(median(times))
        }
      }
    }
    const rows: Row[] = []
    for (const kind of ['text', 'voice'] as const) {
      const before = median(ms.plain[kind] ?? [])
      const after = median(ms.measured[kind] ?? [])
      ctx.log(`${kind}: without metrics ${before.toFixed(2)} ms, with ${after.toFixed(2)} ms`)
      rows.push(
        row({
          operation: `web chat reply (offline responder${kind === 'voice' ? ', spoken' : ''}), median time, with /metrics vs without`,
          unit: 'ms',
          better: 'lower',
          before,
          after,
          spread: spreadText(ms.measured[kind] ?? [], 'rounds'),
        }),
      )
    }

    const scrapes: number[] = []
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now()
      await scrape(measured)
      scrapes.push(performance.now() - t0)
    }
    rows.push(
      row({
        operation: 'GET /metrics, median time of a scrape',
        unit: 'ms',
        better: 'lower',
        after: median(scrapes),
      }),
    )

    // The load run behind the chart: a few users chatting (one with voice on) for a few seconds,
    // scraped once per window as Prometheus would.
    const windows = ctx.quick ? 4 : 8
    const windowMs = 1500
    const series = {
      requests: [] as number[],
      replyMs: [] as number[],
      voice: [] as number[],
      written: [] as number[],
    }
    let previous = await scrape(measured)
    for (let w = 0; w < windows; w++) {
      const end = performance.now() + windowMs
      // Load grows, then falls: the chart shows the counters follow it.
      const clients = 1 + Math.min(w, windows - 1 - w)
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const user = c === 0 ? users[1] : `bench-load-${c}`
          while (performance.now() < end) await timedMessage(measured, user as string, `load ${w}`)
        }),
      )
      const current = await scrape(measured)
      const delta = (name: string) => total(current, name) - total(previous, name)
      series.requests.push(delta('taurobot_http_requests_total') / (windowMs / 1000))
      const replies = delta('taurobot_reply_duration_seconds_count')
      series.replyMs.push(replies > 0 ? (delta('taurobot_reply_duration_seconds_sum') / replies) * 1000 : 0)
      series.voice.push(delta('taurobot_voice_tasks_total'))
      series.written.push(delta('taurobot_memory_messages_written_total'))
      previous = current
    }
    // What a scrape shows, the packages' series only (the process figures are prom-client's).
    const excerpt = (await scrape(measured))
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?taurobot_/.test(line) && !/_bucket\{/.test(line))
      .join('\n')
    if (!ctx.quick) writeFileSync(join(docsDir, 'metrics-scrape.txt'), `${excerpt}\n`)
    for (const chat of chats) await chat.close()
    await voicePool.close()
    return {
      rows,
      notes: [
        `${rounds} rounds of ${perRound} messages per bot and kind, the two bots alternating first; medians of the rounds’ medians. Both bots run in this process on stores of their own and share the one voice pool.`,
        `Load run: ${windows} windows of ${windowMs / 1000} s, 1 to ${1 + Math.floor((windows - 1) / 2)} clients at once, /metrics scraped at the end of each window${ctx.quick ? '' : '; the last scrape, series of the packages only, is docs/metrics-scrape.txt'}.`,
      ],
      charts: [
        {
          file: 'bench-bot-metrics.svg',
          title: 'What /metrics showed during a short load run of the example bot',
          xLabel: `scrape window (${windowMs / 1000} s each)`,
          categories: series.requests.map((_, i) => String(i + 1)),
          panels: [
            {
              yLabel: 'HTTP requests per second',
              unit: '/s',
              logScale: false,
              series: [{ name: 'taurobot_http_requests_total (rate)', values: series.requests }],
            },
            {
              yLabel: 'mean reply time (ms)',
              unit: 'ms',
              logScale: false,
              series: [{ name: 'taurobot_reply_duration_seconds (sum ÷ count)', values: series.replyMs }],
            },
            {
              yLabel: 'per window',
              unit: '',
              logScale: false,
              series: [
                { name: 'taurobot_voice_tasks_total (increase)', values: series.voice },
                { name: 'taurobot_memory_messages_written_total (increase)', values: series.written },
              ],
            },
          ],
        },
      ],
    }
  },
})
