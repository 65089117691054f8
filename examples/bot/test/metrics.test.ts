import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BotProcess, startBotProcess } from './bot-process.js'

let dir: string
let bot: BotProcess
const USER = 'metrics-user-0001'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taurobot-metrics-'))
  bot = await startBotProcess({ MEMORY_DIR: dir })
}, 120_000)
afterAll(async () => {
  await bot?.stop()
  await rm(dir, { recursive: true, force: true })
})

function post(path: string, body: unknown): Promise<Response> {
  return fetch(new URL(path, bot.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function scrape(): Promise<string> {
  const response = await fetch(new URL('/metrics', bot.url))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return response.text()
}

/** The value of one series in Prometheus' text format; undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) continue
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    )
    const wanted = Object.entries(labels)
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v)) {
      return Number(match[3])
    }
  }
  return undefined
}

describe('GET /metrics on the running bot', () => {
  it('counts the requests and replies of a scripted conversation, with bounded labels', async () => {
    for (const text of ['/help', 'one', 'two', 'three']) {
      expect((await post('/api/chat', { user: USER, text })).status).toBe(200)
    }
    expect((await post('/api/chat', { user: USER, text: '' })).status).toBe(400)
    // A path with a user's id in it must not become a label of its own.
    expect((await fetch(new URL(`/no-such-page-${USER}`, bot.url))).status).toBe(404)
    expect((await fetch(new URL('/api/no-such-endpoint', bot.url))).status).toBe(404)
    expect((await fetch(new URL('/', bot.url))).status).toBe(200)

    const text = await scrape()
    const replies = { front_end: 'web', responder: 'offline' }
    // Three conversational replies; /help is a command, not a reply.
    expect(sample(text, 'taurobot_replies_total', { ...replies, outcome: 'ok' })).toBe(3)
    expect(sample(text, 'taurobot_reply_duration_seconds_count', replies)).toBe(3)
    const requests = (labels: Record<string, string>) => sample(text, 'taurobot_http_requests_total', labels)
    expect(requests({ method: 'POST', route: '/api/chat', status: '200' })).toBe(4)
    expect(requests({ method: 'POST', route: '/api/chat', status: '400' })).toBe(1)
    expect(requests({ method: 'GET', route: 'not-found', status: '404' })).toBe(1)
    expect(requests({ method: 'GET', route: '/api/unknown', status: '404' })).toBe(1)
    expect(requests({ method: 'GET', route: 'static', status: '200' })).toBe(1)
    expect(text).not.toContain(USER)
    expect(text).not.toContain('no-such')
    // The process figures operators look at first are there too.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    // The scrape just made counts on the next one.
    expect(
      sample(await scrape(), 'taurobot_http_requests_total', {
        method: 'GET',
        route: '/metrics',
        status: '200',
      }),
    ).toBe(1)
  })

  it('answers only GET and HEAD', async () => {
    const response = await fetch(new URL('/metrics', bot.url), { method: 'POST' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
    const head = await fetch(new URL('/metrics', bot.url), { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })
})

/** The sum of every series of `name` whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) continue
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    )
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3])
  }
  return sum
}

describe('the packages on /metrics', () => {
  it("counts the store's writes: every message added is written or pending, in saves", async () => {
    const user = 'metrics-memory-0001'
    const before = await scrape()
    // Five replies: ten messages (each reply stores the user's message and the bot's).
    for (let i = 0; i < 5; i++)
      expect((await post('/api/chat', { user, text: `note ${i}` })).status).toBe(200)
    const after = await scrape()
    const store = { store: 'conversations' }
    const delta = (name: string) => (sample(after, name, store) ?? 0) - (sample(before, name, store) ?? 0)
    expect(delta('taurobot_memory_messages_written_total') + delta('taurobot_memory_pending_messages')).toBe(
      10,
    )
    // saveEvery is 5: ten messages make at least one save.
    expect(delta('taurobot_memory_saves_total')).toBeGreaterThanOrEqual(1)
    expect(delta('taurobot_memory_save_duration_seconds_count')).toBe(delta('taurobot_memory_saves_total'))
    expect(total(after, 'taurobot_memory_errors_total')).toBe(0)
    expect(after).not.toContain(user)
  })

  it('counts the voice clips of spoken replies', async () => {
    const user = 'metrics-voice-0001'
    expect((await post('/api/voice', { user, on: true })).status).toBe(200)
    const before = await scrape()
    let clips = 0
    for (const text of ['one', 'two']) {
      const response = await post('/api/chat', { user, text })
      const body = (await response.json()) as { voice?: { durationMs: number } }
      if (body.voice) clips++
    }
    expect(clips).toBe(2)
    const after = await scrape()
    const completed = (text: string) => total(text, 'taurobot_voice_tasks_total', { outcome: 'completed' })
    expect(completed(after) - completed(before)).toBe(2)
    expect(total(after, 'taurobot_voice_audio_seconds_total')).toBeGreaterThan(
      total(before, 'taurobot_voice_audio_seconds_total'),
    )
    expect(total(after, 'taurobot_voice_errors_total')).toBe(0)
    expect(sample(after, 'taurobot_voice_threads')).toBeGreaterThan(0)
  })
})

describe('POST /api/sw-counters', () => {
  it("adds a page's service worker counters to the totals and to /metrics", async () => {
    const before = sample(await scrape(), 'taurobot_sw_cache_requests_total', { counter: 'hits' }) ?? 0
    const response = await post('/api/sw-counters', { counts: { hits: 5, misses: 2 } })
    expect(response.status).toBe(200)
    const { totals } = (await response.json()) as { totals: Record<string, number> }
    expect(totals).toMatchObject({ hits: before + 5, misses: 2, errors: 0 })
    const again = (await (await fetch(new URL('/api/sw-counters', bot.url))).json()) as { totals: object }
    expect(again.totals).toEqual(totals)
    const text = await scrape()
    expect(sample(text, 'taurobot_sw_cache_requests_total', { counter: 'hits' })).toBe(before + 5)
    expect(sample(text, 'taurobot_sw_cache_reports_total')).toBe(1)
  })

  it.each([
    [{ counts: { hits: 1, visits: 2 } }, 'counts has an unknown counter "visits"; known: hits, misses'],
    [{ counts: { hits: -1 } }, 'counts.hits must be a whole number from 0 to 1000000, got -1'],
    [{ counts: { misses: 1.5 } }, 'counts.misses must be a whole number from 0 to 1000000, got 1.5'],
    [{ counts: { hits: '3' } }, 'counts.hits must be a whole number from 0 to 1000000, got "3"'],
    [{ counts: [1, 2] }, 'counts must be an object, got [1,2]'],
    [{}, 'counts must be an object, got undefined'],
  ])('refuses %j with a message naming the problem, and counts nothing', async (body, message) => {
    const before = await scrape()
    const response = await post('/api/sw-counters', body)
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { code: string; message: string; field: string } }
    expect(error).toMatchObject({ code: 'bad-counts', field: 'counts' })
    expect(error.message).toContain(message)
    const after = await scrape()
    for (const counter of ['hits', 'misses']) {
      expect(sample(after, 'taurobot_sw_cache_requests_total', { counter })).toBe(
        sample(before, 'taurobot_sw_cache_requests_total', { counter }),
      )
    }
  })
})
