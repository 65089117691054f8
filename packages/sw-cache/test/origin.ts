// A real HTTP origin on 127.0.0.1 (random port) whose answers tests change as they go, and which
// counts the requests it receives.
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Route {
  status?: number
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Holds the answer back so that concurrent requests overlap. */
  delayMs?: number
  /** Destroys the connection: a real network error for the client. */
  fail?: boolean
}

export interface Origin {
  base: string
  url(path: string): string
  routes: Map<string, Route | ((request: IncomingMessage) => Route)>
  /** How many requests reached the origin for `path`. */
  hits(path: string): number
  /** What reached the origin, in order; `at` in ms since the epoch. */
  requests: { path: string; headers: IncomingMessage['headers']; at: number }[]
  close(): Promise<void>
}

export async function startOrigin(): Promise<Origin> {
  const routes: Origin['routes'] = new Map()
  const requests: Origin['requests'] = []
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://origin').pathname
    requests.push({ path, headers: request.headers, at: Date.now() })
    const found = routes.get(path)
    const route = (typeof found === 'function' ? found(request) : found) ?? { status: 404, body: 'not found' }
    if (route.delayMs) await new Promise((resolve) => setTimeout(resolve, route.delayMs))
    if (route.fail) {
      request.socket.destroy()
      return
    }
    response.writeHead(route.status ?? 200, { 'content-type': 'text/plain', ...route.headers })
    response.end(route.body ?? '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    url: (path) => base + path,
    routes,
    hits: (path) => requests.filter((r) => r.path === path).length,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A minimal fetch event: records what is passed to waitUntil. */
export function fetchEvent(request: Request | string) {
  const pending: Promise<unknown>[] = []
  return {
    request: typeof request === 'string' ? new Request(request) : request,
    waitUntil(promise: Promise<unknown>) {
      pending.push(promise)
    },
    /** Resolves once everything passed to waitUntil settled. */
    settled: () => Promise.allSettled(pending),
    pending,
  }
}

/** A request that claims to be a navigation (Node cannot construct mode "navigate"). */
export function navigation(url: string): Request {
  const request = new Request(url, { headers: { accept: 'text/html' } })
  Object.defineProperty(request, 'mode', { value: 'navigate' })
  return request
}
