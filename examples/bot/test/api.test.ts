import { request } from 'node:http'
import { type Memory, memoryBackend, openMemory } from '@taurobot/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TauroBot } from '../src/core.js'
import { RateLimiter } from '../src/rate-limit.js'
import { AutoResponder } from '../src/responder/auto.js'
import { OfflineResponder } from '../src/responder/offline.js'
import { OllamaResponder } from '../src/responder/ollama.js'
import { startWebServer, type WebServer } from '../src/web/server.js'
import { fakeOllama } from './fake-ollama.js'

// The JSON API in process, with an empty set of static files: what is under test is validation,
// rate limiting and the answers' shapes, not the PWA (see e2e.test.ts for that).
let memory: Memory
let server: WebServer
const USER = 'test-user-0001'

beforeAll(async () => {
  memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
  const bot = new TauroBot({ memory, responder: new OfflineResponder() })
  server = await startWebServer({
    bot,
    assets: new Map(),
    rateLimiter: new RateLimiter({ limit: 4, windowMs: 60_000 }),
    responderName: () => 'offline',
    port: 0,
    logError: () => {},
  })
})
afterAll(async () => {
  await server.close()
  await memory.close()
})

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function error(
  response: Response,
): Promise<{ status: number; code: string; message: string; field?: string }> {
  const body = (await response.json()) as { error: { code: string; message: string; field?: string } }
  return { status: response.status, ...body.error }
}

describe('JSON API', () => {
  it('chats and keeps the history', async () => {
    const response = await post('/api/chat', { user: USER, text: 'my name is Ada' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    const body = (await response.json()) as { reply: string; message: { role: string }; voiceOn: boolean }
    expect(body.reply).toContain('Nice to meet you, Ada!')
    expect(body.message.role).toBe('assistant')
    expect(body.voiceOn).toBe(false)
    const history = (await (await fetch(new URL(`/api/history?user=${USER}`, server.url))).json()) as {
      messages: { role: string; content: string }[]
      responder: string
    }
    expect(history.responder).toBe('offline')
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant'])
    expect(history.messages[0]?.content).toBe('my name is Ada')
  })

  it('streams the reply as NDJSON when asked to', async () => {
    const response = await post(
      '/api/chat',
      { user: 'stream-user-01', text: 'hello' },
      { accept: 'application/x-ndjson' },
    )
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; reply?: string })
    expect(lines.at(-1)).toMatchObject({ type: 'reply' })
    expect(lines.at(-1)?.reply).toMatch(/^\[offline mode/)
  })

  it('rejects a message over 4096 characters, naming the field and the length', async () => {
    const e = await error(await post('/api/chat', { user: USER, text: 'a'.repeat(4097) }))
    expect(e).toEqual({
      status: 400,
      code: 'text-too-long',
      field: 'text',
      message: 'text must be at most 4096 characters, got 4097',
    })
  })

  it('rejects bad user ids, missing or empty text', async () => {
    for (const user of ['short', '../../etc/passwd', 'x'.repeat(65), 42, undefined]) {
      const e = await error(await post('/api/chat', { user, text: 'hi' }))
      expect(e.status).toBe(400)
      expect(e.code).toBe('bad-user')
      expect(e.field).toBe('user')
      expect(e.message).toMatch(/^user must be 8 to 64 letters, digits, "-" or "_", got /)
    }
    const history = await error(await fetch(new URL('/api/history?user=<script>', server.url)))
    expect(history).toMatchObject({
      status: 400,
      code: 'bad-user',
      message: 'user must be 8 to 64 letters, digits, "-" or "_", got "<script>"',
    })
    expect(await error(await post('/api/chat', { user: 'other-user-01', text: 5 }))).toMatchObject({
      status: 400,
      code: 'bad-text',
      message: 'text must be a string, got number',
    })
    expect(await error(await post('/api/chat', { user: 'other-user-01', text: ' \n ' }))).toMatchObject({
      status: 400,
      code: 'bad-text',
      message: 'text must not be empty',
    })
  })

  it('rejects bodies that are not JSON objects, too big, or of the wrong type', async () => {
    expect(await error(await post('/api/chat', '{"user":'))).toMatchObject({ status: 400, code: 'bad-json' })
    expect(await error(await post('/api/chat', '[1,2]'))).toMatchObject({ status: 400, code: 'bad-json' })
    expect(await error(await post('/api/chat', { user: USER, text: 'x'.repeat(70_000) }))).toMatchObject({
      status: 413,
      code: 'body-too-large',
    })
    const plain = await fetch(new URL('/api/chat', server.url), { method: 'POST', body: 'hi' })
    expect(await error(plain)).toMatchObject({ status: 415, code: 'unsupported-media-type' })
    expect(await error(await fetch(new URL('/api/chat', server.url)))).toMatchObject({
      status: 405,
      code: 'method-not-allowed',
    })
    expect(await error(await fetch(new URL('/api/nope', server.url)))).toMatchObject({
      status: 404,
      code: 'not-found',
    })
    expect(await error(await post('/api/voice', { user: USER, on: 'yes' }))).toMatchObject({
      status: 400,
      code: 'bad-on',
      message: 'on must be true or false, got "yes"',
    })
  })

  it('limits each user to the configured number of messages, with Retry-After', async () => {
    const user = 'rate-limited-user'
    for (let i = 0; i < 4; i++) expect((await post('/api/chat', { user, text: `m${i}` })).status).toBe(200)
    const limited = await post('/api/chat', { user, text: 'one too many' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const e = await error(limited)
    expect(e).toMatchObject({ status: 429, code: 'rate-limited' })
    expect(e.message).toMatch(/^too many messages: at most 4 per 60 s; try again in \d+ s$/)
    // Other users are not affected.
    expect((await post('/api/chat', { user: 'another-user-2', text: 'hi' })).status).toBe(200)
  })

  it('answers only to its own host name and refuses cross-origin posts', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL('/api/health', server.url),
        { headers: { host: 'evil.example:80' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(421)
    const cross = await post('/api/chat', { user: USER, text: 'hi' }, { origin: 'http://evil.example' })
    expect(await error(cross)).toMatchObject({ status: 403, code: 'bad-origin' })
  })

  it('toggles voice off and on only when speech is available', async () => {
    const r = await post('/api/voice', { user: USER, on: true })
    // This bot was built without a voice: the toggle stays off.
    expect(await r.json()).toEqual({ voiceOn: false })
  })
})

describe('JSON API with a model server', () => {
  it('streams the model reply chunk by chunk, with the conversation as context', async () => {
    const ollama = await fakeOllama(['llama3.2:latest'], (body) => [
      'You told me ',
      String(body.messages.filter((m) => m.role === 'user').length),
      ' things.',
    ])
    const responder = new AutoResponder(new OllamaResponder({ host: ollama.url, model: 'llama3.2' }), {
      log: () => {},
    })
    await responder.start()
    const store = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const web = await startWebServer({
      bot: new TauroBot({ memory: store, responder }),
      assets: new Map(),
      rateLimiter: new RateLimiter({ limit: 10 }),
      responderName: () => responder.name,
      port: 0,
    })
    try {
      const chat = (text: string) =>
        fetch(new URL('/api/chat', web.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
          body: JSON.stringify({ user: 'model-user-01', text }),
        }).then(async (r) =>
          (await r.text())
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as { type: string; text?: string; reply?: string }),
        )
      const start = await chat('/start')
      expect(start.at(-1)?.reply).toContain('My replies come from ollama (llama3.2)')
      await chat('first')
      const events = await chat('second')
      expect(events.filter((e) => e.type === 'chunk').map((e) => e.text)).toEqual([
        'You told me ',
        '2',
        ' things.',
      ])
      expect(events.at(-1)).toMatchObject({ type: 'reply', reply: 'You told me 2 things.' })
      const history = (await (await fetch(new URL('/api/history?user=model-user-01', web.url))).json()) as {
        responder: string
        messages: { content: string }[]
      }
      expect(history.responder).toBe('ollama (llama3.2)')
      expect(history.messages.map((m) => m.content)).toEqual([
        'first',
        'You told me 1 things.',
        'second',
        'You told me 2 things.',
      ])
    } finally {
      await web.close()
      await store.close()
      await ollama.close()
    }
  })
})
