import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TauroBot } from '../core.js'
import type { BotMetrics } from '../metrics.js'
import { RateLimiter } from '../rate-limit.js'
import { apiRoute, createApi } from './api.js'
import type { Asset } from './assets.js'
import { ClipStore } from './clip-store.js'
import { ApiError, errorBody, requestUrl, sendJson, shown } from './http.js'

export interface WebServerOptions {
  bot: TauroBot
  assets: Map<string, Asset>
  /** The budget of chat messages, per client address. */
  rateLimiter: RateLimiter
  /** The budget of voice toggles, per client address. @default 10 per minute */
  voiceRateLimiter?: RateLimiter
  /** Where replies come from right now, shown in the page header. */
  responderName: () => string
  /** 0 picks a free port. @default 3000 */
  port?: number
  /** Time for a client to send a request's headers. @default 10000 */
  headersTimeoutMs?: number
  /** Time for a client to send a whole request, body included; at least `headersTimeoutMs`. @default 30000 */
  requestTimeoutMs?: number
  /** How long an idle kept-alive connection stays open. @default 5000 */
  keepAliveTimeoutMs?: number
  /** Connections open at once; further ones are closed as soon as they arrive. @default 100 */
  maxConnections?: number
  /**
   * Served at `GET /metrics` (Prometheus' text format) and told of every request; without it
   * there is no /metrics and pages cannot report their counters.
   */
  metrics?: BotMetrics
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

const HOST = '127.0.0.1'
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

/** Checks a timeout or a count up front, naming the option and the value. */
function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  return value
}

/**
 * The web chat: the PWA's files and a small JSON API (see api.ts), on 127.0.0.1 only, with
 * timeouts and a connection cap so that slow or piled-up clients cannot hold it.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { bot, assets, rateLimiter, responderName } = options
  const logError = options.logError ?? ((message, error) => console.error(message, error))
  const headersTimeout = positiveInteger('headersTimeoutMs', options.headersTimeoutMs ?? 10_000)
  const requestTimeout = positiveInteger('requestTimeoutMs', options.requestTimeoutMs ?? 30_000)
  const keepAliveTimeout = positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 5000)
  const maxConnections = positiveInteger('maxConnections', options.maxConnections ?? 100)
  if (headersTimeout > requestTimeout) {
    throw new RangeError(
      `headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout})`,
    )
  }
  const api = createApi({
    bot,
    clips: new ClipStore(),
    rateLimiter,
    voiceRateLimiter: options.voiceRateLimiter ?? new RateLimiter({ limit: 10 }),
    responderName,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    logError,
  })
  let allowedHosts = new Set<string>()

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

  /** The route a request belongs to, from a closed set, so that any path makes a bounded label. */
  function routeOf(url: URL | undefined): string {
    if (url === undefined) return 'bad-url'
    if (url.pathname === '/metrics') return '/metrics'
    if (url.pathname.startsWith('/api/')) return apiRoute(url.pathname) ?? '/api/unknown'
    return assets.has(url.pathname) ? 'static' : 'not-found'
  }

  async function scrape(req: IncomingMessage, res: ServerResponse, metrics: BotMetrics): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n')
      return
    }
    const { contentType, body } = await metrics.scrape()
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { metrics } = options
    if (metrics) {
      const started = performance.now()
      res.once('close', () => {
        const url = requestUrl(req)
        const seconds = (performance.now() - started) / 1000
        metrics.observeRequest(req.method ?? 'GET', routeOf(url), res.statusCode, seconds)
      })
    }
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
    const url = requestUrl(req)
    if (url === undefined) {
      // The client's mistake, not the server's: no stack in the log for it.
      sendJson(res, 400, errorBody(new ApiError(400, 'bad-url', `cannot read the URL ${shown(req.url)}`)))
      return
    }
    if (url.pathname === '/metrics' && metrics) {
      await scrape(req, res, metrics)
      return
    }
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

  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // Node looks for expired requests on this period (30 s by default), whatever the timeouts.
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logError('request failed:', error)
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    },
  )
  server.keepAliveTimeout = keepAliveTimeout
  // Beyond it, Node closes each new connection as soon as it is accepted.
  server.maxConnections = maxConnections
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
