import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { type Memory, memoryBackend, openMemory } from '@taurobot/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TauroBot } from '../src/core.js'
import { RateLimiter } from '../src/rate-limit.js'
import { AutoResponder } from '../src/responder/auto.js'
import { OfflineResponder } from '../src/responder/offline.js'
import { OllamaResponder } from '../src/responder/ollama.js'
import { apiRoute } from '../src/web/api.js'
import { startWebServer, type WebServer } from '../src/web/server.js'
import { fakeOllama } from './fake-ollama.js'

// The JSON API in process, with an empty set of static files: what is under test is validation,
// rate limiting and the answers' shapes, not the PWA (see e2e.test.ts for that).
let memory: Memory
let server: WebServer
const USER = 'test-user-0001'
// What the server logged as failures, to check that client mistakes are not among them.
const logged: string[] = []

/** A web server on a fresh in-memory store; `options` replace the defaults. */
async function startServer(options: Partial<Parameters<typeof startWebServer>[0]> = {}): Promise<WebServer> {
  return startWebServer({
    bot: new TauroBot({ memory, responder: new OfflineResponder() }),
    assets: new Map(),
    // Every request of a test comes from 127.0.0.1: the budgets are one for the whole file.
    rateLimiter: new RateLimiter({ limit: 1000 }),
    voiceRateLimiter: new RateLimiter({ limit: 1000 }),
    responderName: () => 'offline',
    port: 0,
    logError: (message) => logged.push(message),
    ...options,
  })
}

beforeAll(async () => {
  memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
  server = await startServer()
})
afterAll(async () => {
  await server.close()
  await memory.close()
})

/** Connects a raw TCP socket to `web`, for what fetch would not send (bad URLs, stalled bodies). */
async function rawSocket(
  web: WebServer,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(web.port, '127.0.0.1')
  let data = ''
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString()
  })
  // A refused or reset connection is what some tests expect: it shows as 'close'.
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('close', () => reject(new Error('the connection closed before it was established')))
  })
  return { socket, received: () => data, closed }
}

/** Resolves when `closed` does, or rejects after `ms`: a server that never closes fails the test. */
function within(closed: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    closed,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

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

describe('rate limits', () => {
  it('limits each client address, whatever user ids it sends, with Retry-After', async () => {
    const web = await startServer({ rateLimiter: new RateLimiter({ limit: 4, windowMs: 60_000 }) })
    try {
      const send = (user: string) =>
        fetch(new URL('/api/chat', web.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, text: 'hi' }),
        })
      for (let i = 0; i < 4; i++) expect((await send(`rotating-user-${i}`)).status).toBe(200)
      const limited = await send('rotating-user-4')
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      const e = await error(limited)
      expect(e).toMatchObject({ status: 429, code: 'rate-limited' })
      expect(e.message).toMatch(/^too many messages: at most 4 per 60 s; try again in \d+ s$/)
    } finally {
      await web.close()
    }
  })

  it('limits POST /api/voice with a budget of its own', async () => {
    const web = await startServer({ voiceRateLimiter: new RateLimiter({ limit: 2, windowMs: 60_000 }) })
    try {
      const toggle = (user: string) =>
        fetch(new URL('/api/voice', web.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user }),
        })
      expect((await toggle('voice-user-01')).status).toBe(200)
      expect((await toggle('voice-user-02')).status).toBe(200)
      const limited = await toggle('voice-user-03')
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      const e = await error(limited)
      expect(e).toMatchObject({ status: 429, code: 'rate-limited' })
      expect(e.message).toMatch(/^too many voice requests: at most 2 per 60 s; try again in \d+ s$/)
    } finally {
      await web.close()
    }
  })
})

describe('connections', () => {
  it('closes a connection whose body stalls, once requestTimeoutMs is over', async () => {
    const web = await startServer({ headersTimeoutMs: 500, requestTimeoutMs: 1000 })
    try {
      const { socket, received, closed } = await rawSocket(web)
      socket.write(
        `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"us`,
      )
      await within(closed, 20_000, 'a stalled body')
      // Node answers 408 when it can; either way the connection is gone.
      expect(received()).toMatch(/^$|^HTTP\/1\.1 408 /)
      expect(logged).toEqual([])
    } finally {
      await web.close()
    }
  })

  it('closes a connection whose headers stall, once headersTimeoutMs is over', async () => {
    const web = await startServer({ headersTimeoutMs: 500, requestTimeoutMs: 1000 })
    try {
      const { socket, received, closed } = await rawSocket(web)
      socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nX-Slow: a`)
      await within(closed, 20_000, 'stalled headers')
      expect(received()).toMatch(/^$|^HTTP\/1\.1 408 /)
    } finally {
      await web.close()
    }
  })

  it('closes an idle kept-alive connection once keepAliveTimeoutMs is over', async () => {
    const web = await startServer({ keepAliveTimeoutMs: 1000 })
    try {
      const { socket, received, closed } = await rawSocket(web)
      socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\n\r\n`)
      await expect.poll(received, { timeout: 10_000, interval: 20 }).toMatch(/^HTTP\/1\.1 200 /)
      // The answer announces the timeout, in whole seconds (Node's own default says 5).
      expect(received()).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i)
      // Node's default (5 s, plus up to 1 s of grace on newer versions) would outlast this.
      await within(closed, 4000, 'an idle kept-alive connection')
    } finally {
      await web.close()
    }
  })

  it('closes connections beyond maxConnections at once, and keeps the others', async () => {
    const web = await startServer({ maxConnections: 2 })
    try {
      const health = `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\n\r\n`
      const kept = [await rawSocket(web), await rawSocket(web)]
      for (const { socket, received } of kept) {
        socket.write(health)
        await expect.poll(received, { timeout: 10_000, interval: 20 }).toMatch(/^HTTP\/1\.1 200 /)
      }
      const extra = connect(web.port, '127.0.0.1')
      extra.on('error', () => {})
      let extraData = ''
      extra.on('data', (chunk: Buffer) => {
        extraData += chunk.toString()
      })
      extra.write(health)
      await within(
        new Promise<void>((resolve) => extra.once('close', () => resolve())),
        20_000,
        'a connection beyond maxConnections',
      )
      expect(extraData).toBe('')
      // The two first connections still work.
      const [first] = kept
      first?.socket.write(health)
      await expect
        .poll(() => first?.received().match(/HTTP\/1\.1 200 /g)?.length, { timeout: 10_000 })
        .toBe(2)
      for (const { socket } of kept) socket.destroy()
    } finally {
      await web.close()
    }
  })

  it('answers a URL it cannot parse with 400, and logs nothing', async () => {
    const { socket, received, closed } = await rawSocket(server)
    socket.write(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`)
    await within(closed, 20_000, 'a request with a bad URL')
    expect(received()).toMatch(/^HTTP\/1\.1 400 /)
    expect(received()).toContain(
      '{"error":{"code":"bad-url","message":"cannot read the URL \\"http://[\\""}}',
    )
    expect(logged).toEqual([])
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

describe('apiRoute', () => {
  it('labels every path of the route table, a clip by its pattern, and nothing else', () => {
    for (const path of ['/api/health', '/api/history', '/api/chat', '/api/voice', '/api/sw-counters']) {
      expect(apiRoute(path)).toBe(path)
    }
    expect(apiRoute('/api/voice/0d4c3a1e-8f9b-4c2d-9e7f-1a2b3c4d5e6f.ogg')).toBe('/api/voice/:clip')
    expect(apiRoute('/api/voice/not-a-clip.ogg')).toBeUndefined()
    expect(apiRoute('/api/nothing')).toBeUndefined()
  })
})
