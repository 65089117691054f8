import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BotReply, charLength, MAX_MESSAGE_CHARS, type TauroBot } from '../core.js'
import type { RateLimiter } from '../rate-limit.js'
import type { Asset } from './assets.js'
import { ClipStore } from './clip-store.js'

export interface WebServerOptions {
  bot: TauroBot
  assets: Map<string, Asset>
  rateLimiter: RateLimiter
  /** Where replies come from right now, shown in the page header. */
  responderName: () => string
  /** 0 picks a free port. @default 3000 */
  port?: number
  /** @default console.error */
  logError?: (message: string, error: unknown) => void
}

export interface WebServer {
  /** The address to open, e.g. http://127.0.0.1:3000/ */
  url: string
  port: number
  /** Stops accepting connections and waits (at most `graceMs`) for requests in flight. */
  close(graceMs?: number): Promise<void>
}

/** A failure that the API reports as `{ "error": { code, message, field? } }`. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const HOST = '127.0.0.1'
const MAX_BODY_BYTES = 64 * 1024
const USER_ID = /^[A-Za-z0-9_-]{8,64}$/
const CLIP_PATH = /^\/api\/voice\/([0-9a-f-]{36})\.ogg$/

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "media-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes.length,
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(bytes)
}

function errorBody(error: ApiError): { error: { code: string; message: string; field?: string } } {
  return {
    error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? ''
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(
      415,
      'unsupported-media-type',
      `send the body as application/json, got ${shown(type || 'nothing')}`,
    )
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) {
    throw new ApiError(
      413,
      'body-too-large',
      `the body must be at most ${MAX_BODY_BYTES} bytes, got ${declared}`,
    )
  }
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(413, 'body-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`)
    }
    parts.push(part)
  }
  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(parts).toString('utf8'))
  } catch {
    throw new ApiError(400, 'bad-json', 'the body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'bad-json', 'the body must be a JSON object')
  }
  return body as Record<string, unknown>
}

function userFrom(value: unknown): string {
  if (typeof value !== 'string' || !USER_ID.test(value)) {
    throw new ApiError(
      400,
      'bad-user',
      `user must be 8 to 64 letters, digits, "-" or "_", got ${value === undefined ? 'nothing' : shown(value)}`,
      'user',
    )
  }
  return value
}

function textFrom(value: unknown): string {
  if (typeof value !== 'string') {
    throw new ApiError(
      400,
      'bad-text',
      `text must be a string, got ${value === undefined ? 'nothing' : typeof value}`,
      'text',
    )
  }
  const length = charLength(value)
  if (length > MAX_MESSAGE_CHARS) {
    throw new ApiError(
      400,
      'text-too-long',
      `text must be at most ${MAX_MESSAGE_CHARS} characters, got ${length}`,
      'text',
    )
  }
  if (value.trim() === '') throw new ApiError(400, 'bad-text', 'text must not be empty', 'text')
  return value
}

/** The web chat's conversations are kept apart from Telegram's numeric chat ids. */
function conversationOf(user: string): string {
  return `web-${user}`
}

/**
 * The web chat: the PWA's files and a small JSON API, on 127.0.0.1 only.
 *
 * - `GET /api/history?user=ID` → `{ messages, voiceOn, responder }`
 * - `POST /api/chat {user, text}` → `{ reply, command?, message?, voice?: {url, mimeType, durationMs}, voiceOn }`;
 *   with `Accept: application/x-ndjson` the reply streams as `{type:"chunk"}` lines, then `{type:"reply"}`
 * - `POST /api/voice {user, on?}` → `{ voiceOn }` (toggles when `on` is absent)
 * - `GET /api/voice/ID.ogg` → the clip, `audio/ogg`, with byte ranges
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { bot, assets, rateLimiter, responderName } = options
  const logError = options.logError ?? ((message, error) => console.error(message, error))
  const clips = new ClipStore()
  let allowedHosts = new Set<string>()

  function publicReply(reply: BotReply, user: string): Record<string, unknown> {
    const voice = reply.voice
      ? {
          url: `/api/voice/${clips.put(reply.voice)}.ogg`,
          mimeType: reply.voice.mimeType,
          durationMs: reply.voice.durationMs,
        }
      : undefined
    return {
      reply: reply.text,
      ...(reply.command ? { command: reply.command } : {}),
      ...(reply.message ? { message: reply.message } : {}),
      ...(voice ? { voice } : {}),
      ...(reply.voiceError ? { voiceError: reply.voiceError } : {}),
      voiceOn: bot.isVoiceOn(conversationOf(user)),
    }
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req)
    const user = userFrom(body.user)
    const text = textFrom(body.text)
    const verdict = rateLimiter.take(user)
    if (!verdict.allowed) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000)
      throw new ApiError(
        429,
        'rate-limited',
        `too many messages: at most ${rateLimiter.limit} per ${rateLimiter.windowMs / 1000} s; try again in ${seconds} s`,
        undefined,
        { 'retry-after': String(seconds) },
      )
    }
    const streaming = /application\/x-ndjson/i.test(req.headers.accept ?? '')
    if (!streaming) {
      sendJson(res, 200, publicReply(await bot.handle(conversationOf(user), text), user))
      return
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' })
    const line = (value: unknown) => res.write(`${JSON.stringify(value)}\n`)
    try {
      const reply = await bot.handle(conversationOf(user), text, {
        onChunk: (chunk) => line({ type: 'chunk', text: chunk }),
      })
      line({ type: 'reply', ...publicReply(reply, user) })
    } catch (error) {
      logError('reply failed:', error)
      line({ type: 'error', error: { code: 'internal', message: 'the bot could not answer this message' } })
    }
    res.end()
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`
    if (route === 'GET /api/health') {
      sendJson(res, 200, { ok: true, responder: responderName() })
    } else if (route === 'GET /api/history') {
      const user = userFrom(url.searchParams.get('user') ?? undefined)
      const messages = await bot.history(conversationOf(user))
      sendJson(res, 200, {
        messages,
        voiceOn: bot.isVoiceOn(conversationOf(user)),
        responder: responderName(),
      })
    } else if (route === 'POST /api/chat') {
      await chat(req, res)
    } else if (route === 'POST /api/voice') {
      const body = await readJson(req)
      const user = userFrom(body.user)
      if (body.on !== undefined && typeof body.on !== 'boolean') {
        throw new ApiError(400, 'bad-on', `on must be true or false, got ${shown(body.on)}`, 'on')
      }
      const id = conversationOf(user)
      const on = bot.setVoice(id, body.on ?? !bot.isVoiceOn(id))
      sendJson(res, 200, { voiceOn: on })
    } else if (req.method === 'GET' && CLIP_PATH.test(url.pathname)) {
      const clip = clips.get(CLIP_PATH.exec(url.pathname)?.[1] ?? '')
      if (clip === undefined)
        throw new ApiError(404, 'not-found', 'this voice clip is gone: clips are kept for a while only')
      sendRange(
        req,
        res,
        Buffer.from(clip.data.buffer, clip.data.byteOffset, clip.data.byteLength),
        clip.mimeType,
      )
    } else {
      const known = ['/api/health', '/api/history', '/api/chat', '/api/voice'].includes(url.pathname)
      throw known
        ? new ApiError(405, 'method-not-allowed', `${req.method} is not allowed on ${url.pathname}`)
        : new ApiError(404, 'not-found', `no API endpoint ${url.pathname}`)
    }
  }

  function staticFile(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n')
      return
    }
    const file = assets.get(url.pathname)
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n')
      return
    }
    const headers = { etag: file.etag, 'cache-control': file.cacheControl }
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end()
      return
    }
    res.writeHead(200, { ...headers, 'content-type': file.contentType, 'content-length': file.body.length })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
    // A DNS-rebinding page would reach us under its own host name: answer only to our own.
    if (!allowedHosts.has(req.headers.host ?? '')) {
      sendJson(
        res,
        421,
        errorBody(
          new ApiError(421, 'bad-host', `this server answers only to ${[...allowedHosts].join(' or ')}`),
        ),
      )
      return
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`)
    if (!url.pathname.startsWith('/api/')) {
      staticFile(req, res, url)
      return
    }
    const origin = req.headers.origin
    if (
      req.method === 'POST' &&
      origin !== undefined &&
      !allowedHosts.has(origin.replace(/^http:\/\//, ''))
    ) {
      sendJson(
        res,
        403,
        errorBody(new ApiError(403, 'bad-origin', `requests from ${shown(origin)} are not accepted`)),
      )
      return
    }
    try {
      await api(req, res, url)
    } catch (error) {
      const known = error instanceof ApiError ? error : undefined
      if (known === undefined) logError(`${req.method} ${url.pathname} failed:`, error)
      const failure =
        known ?? new ApiError(500, 'internal', 'the bot could not handle this request; see the server log')
      if (res.headersSent) {
        res.end()
        return
      }
      // An oversized body is not read to the end: close the connection instead of draining it.
      sendJson(res, failure.status, errorBody(failure), {
        ...failure.headers,
        ...(failure.status === 413 ? { connection: 'close' } : {}),
      })
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logError('request failed:', error)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${options.port ?? 3000} is already in use: set PORT to another port (PORT=0 picks a free one)`,
              { cause: error },
            )
          : error,
      )
    }
    server.once('error', onError)
    server.listen(options.port ?? 3000, HOST, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  allowedHosts = new Set([`${HOST}:${port}`, `localhost:${port}`])

  let closing: Promise<void> | undefined
  return {
    url: `http://${HOST}:${port}/`,
    port,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

function sendRange(req: IncomingMessage, res: ServerResponse, data: Buffer, type: string): void {
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=3600' }
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '')
  if (range === null) {
    res.writeHead(200, { ...headers, 'content-length': data.length }).end(data)
    return
  }
  const [, from = '', to = ''] = range
  let start = from === '' ? data.length - Number(to) : Number(from)
  let end = from === '' || to === '' ? data.length - 1 : Number(to)
  start = Math.max(0, start)
  end = Math.min(end, data.length - 1)
  if (start > end || start >= data.length) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${data.length}` }).end()
    return
  }
  res.writeHead(206, {
    ...headers,
    'content-range': `bytes ${start}-${end}/${data.length}`,
    'content-length': end - start + 1,
  })
  res.end(data.subarray(start, end + 1))
}
