import type { IncomingMessage, ServerResponse } from 'node:http'
import { type BotReply, charLength, MAX_MESSAGE_CHARS, type TauroBot } from '../core.js'
import { type BotMetrics, SW_COUNTERS, type SwCounterName } from '../metrics.js'
import { RateLimiter } from '../rate-limit.js'
import type { ClipStore } from './clip-store.js'
import { ApiError, readJson, sendJson, sendRange, shown } from './http.js'

export interface ApiOptions {
  bot: TauroBot
  clips: ClipStore
  /** The budget of `POST /api/chat`, per client address. */
  rateLimiter: RateLimiter
  /** The budget of `POST /api/voice`, per client address. */
  voiceRateLimiter: RateLimiter
  responderName: () => string
  /** Receives the pages' service worker counters; without it that endpoint is a 404. */
  metrics?: BotMetrics
  /** The budget of `POST /api/sw-counters`, per client address. */
  reportRateLimiter?: RateLimiter
  logError: (message: string, error: unknown) => void
}

/** Answers one API request whose URL has been parsed; failures are thrown as ApiError. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>

type HandlerName = 'health' | 'history' | 'chat' | 'voice' | 'clip' | 'swCounters'

interface Route {
  method: string
  /** The exact path, or a pattern for paths with an id in them. */
  path: string | RegExp
  /** What metrics call a pattern's paths (a bounded label); an exact path is its own label. */
  label?: string
  handler: HandlerName
}

const USER_ID = /^[A-Za-z0-9_-]{8,64}$/
const CLIP_PATH = /^\/api\/voice\/([0-9a-f-]{36})\.ogg$/
/** One page's report can hold at most this many of one counter: a worker is restarted long before. */
const MAX_REPORTED_COUNT = 1_000_000

/** The API's route table; {@link createApi} documents each endpoint. */
const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/api/health', handler: 'health' },
  { method: 'GET', path: '/api/history', handler: 'history' },
  { method: 'POST', path: '/api/chat', handler: 'chat' },
  { method: 'POST', path: '/api/voice', handler: 'voice' },
  { method: 'GET', path: CLIP_PATH, label: '/api/voice/:clip', handler: 'clip' },
  { method: 'GET', path: '/api/sw-counters', handler: 'swCounters' },
  { method: 'POST', path: '/api/sw-counters', handler: 'swCounters' },
]

function onPath(route: Route, pathname: string): boolean {
  return typeof route.path === 'string' ? route.path === pathname : route.path.test(pathname)
}

/** The route an API path belongs to, as a bounded label (`/api/voice/:clip`), or undefined. */
export function apiRoute(pathname: string): string | undefined {
  const route = ROUTES.find((r) => onPath(r, pathname))
  if (route === undefined) return undefined
  return route.label ?? (typeof route.path === 'string' ? route.path : undefined)
}

/** A page's counter report: every counter a whole number from 0 to a bound, nothing else. */
function swCountsFrom(value: unknown): Record<SwCounterName, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'bad-counts', `counts must be an object, got ${shown(value)}`, 'counts')
  }
  const counts = value as Record<string, unknown>
  for (const name of Object.keys(counts)) {
    if (!(SW_COUNTERS as readonly string[]).includes(name)) {
      throw new ApiError(
        400,
        'bad-counts',
        `counts has an unknown counter ${shown(name)}; known: ${SW_COUNTERS.join(', ')}`,
        'counts',
      )
    }
  }
  const checked = {} as Record<SwCounterName, number>
  for (const name of SW_COUNTERS) {
    const count = counts[name] ?? 0
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_REPORTED_COUNT) {
      throw new ApiError(
        400,
        'bad-counts',
        `counts.${name} must be a whole number from 0 to ${MAX_REPORTED_COUNT}, got ${shown(count)}`,
        'counts',
      )
    }
    checked[name] = count
  }
  return checked
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
 * Counts one request against the client's budget. The key is the connection's address, not the
 * `user` in the body: a client chooses its user ids, so it could take a fresh budget with each.
 */
function takeBudget(req: IncomingMessage, limiter: RateLimiter, what: string): void {
  const verdict = limiter.take(req.socket.remoteAddress ?? 'unknown')
  if (verdict.allowed) return
  const seconds = Math.ceil(verdict.retryAfterMs / 1000)
  throw new ApiError(
    429,
    'rate-limited',
    `too many ${what}: at most ${limiter.limit} per ${limiter.windowMs / 1000} s; try again in ${seconds} s`,
    undefined,
    { 'retry-after': String(seconds) },
  )
}

/**
 * The JSON API as a route table:
 *
 * - `GET /api/health` → `{ ok, responder }`
 * - `GET /api/history?user=ID` → `{ messages, voiceOn, responder }`
 * - `POST /api/chat {user, text}` → `{ reply, command?, message?, voice?: {url, mimeType, durationMs}, voiceOn }`;
 *   with `Accept: application/x-ndjson` the reply streams as `{type:"chunk"}` lines and, when voice is on,
 *   one `{type:"clip", url, mimeType, durationMs, text}` line per spoken sentence, then `{type:"reply"}`
 * - `POST /api/voice {user, on?}` → `{ voiceOn }` (toggles when `on` is absent)
 * - `GET /api/voice/ID.ogg` → the clip, `audio/ogg`, with byte ranges
 * - `POST /api/sw-counters {counts}` → the totals: adds a page's service worker counters (read and
 *   reset with `readCounters(true)`) to /metrics; `GET /api/sw-counters` → the totals
 *
 * A known path with another method is a 405, any other path a 404.
 */
export function createApi(options: ApiOptions): ApiHandler {
  const { bot, clips, rateLimiter, voiceRateLimiter, responderName, metrics, logError } = options
  const reportRateLimiter = options.reportRateLimiter ?? new RateLimiter({ limit: 30 })

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

  async function health(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, { ok: true, responder: responderName() })
  }

  async function history(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const user = userFrom(url.searchParams.get('user') ?? undefined)
    const messages = await bot.history(conversationOf(user))
    sendJson(res, 200, {
      messages,
      voiceOn: bot.isVoiceOn(conversationOf(user)),
      responder: responderName(),
    })
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req)
    const user = userFrom(body.user)
    const text = textFrom(body.text)
    takeBudget(req, rateLimiter, 'messages')
    const streaming = /application\/x-ndjson/i.test(req.headers.accept ?? '')
    if (!streaming) {
      sendJson(res, 200, publicReply(await bot.handle(conversationOf(user), text), user))
      return
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' })
    // Guarded: a late line after the answer has ended must not become an 'error' on the response.
    const line = (value: unknown) => {
      if (!res.writableEnded) res.write(`${JSON.stringify(value)}\n`)
    }
    try {
      const reply = await bot.handle(conversationOf(user), text, {
        onChunk: (chunk) => line({ type: 'chunk', text: chunk }),
        // Each sentence is in the store before its line goes out, so the page can fetch it at once.
        onClip: (clip) =>
          line({
            type: 'clip',
            url: `/api/voice/${clips.put(clip)}.ogg`,
            mimeType: clip.mimeType,
            durationMs: clip.durationMs,
            text: clip.text,
          }),
      })
      line({ type: 'reply', ...publicReply(reply, user) })
    } catch (error) {
      logError('reply failed:', error)
      line({ type: 'error', error: { code: 'internal', message: 'the bot could not answer this message' } })
    }
    res.end()
  }

  async function voice(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req)
    const user = userFrom(body.user)
    if (body.on !== undefined && typeof body.on !== 'boolean') {
      throw new ApiError(400, 'bad-on', `on must be true or false, got ${shown(body.on)}`, 'on')
    }
    takeBudget(req, voiceRateLimiter, 'voice requests')
    const id = conversationOf(user)
    sendJson(res, 200, { voiceOn: bot.setVoice(id, body.on ?? !bot.isVoiceOn(id)) })
  }

  async function clip(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const found = clips.get(CLIP_PATH.exec(url.pathname)?.[1] ?? '')
    if (found === undefined) {
      throw new ApiError(404, 'not-found', 'this voice clip is gone: clips are kept for a while only')
    }
    const data = Buffer.from(found.data.buffer, found.data.byteOffset, found.data.byteLength)
    sendRange(req, res, data, found.mimeType)
  }

  async function swCounters(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (metrics === undefined) throw new ApiError(404, 'not-found', 'metrics are off on this server')
    if (req.method === 'POST') {
      const body = await readJson(req)
      const counts = swCountsFrom(body.counts)
      takeBudget(req, reportRateLimiter, 'counter reports')
      metrics.addSwCounters(counts)
    }
    sendJson(res, 200, { totals: await metrics.swTotals() })
  }

  const handlers: Record<HandlerName, ApiHandler> = { health, history, chat, voice, clip, swCounters }

  return async (req, res, url) => {
    const routes = ROUTES.filter((r) => onPath(r, url.pathname))
    const route = routes.find((r) => r.method === req.method)
    if (route !== undefined) return handlers[route.handler](req, res, url)
    throw routes.length > 0
      ? new ApiError(405, 'method-not-allowed', `${req.method} is not allowed on ${url.pathname}`)
      : new ApiError(404, 'not-found', `no API endpoint ${url.pathname}`)
  }
}
