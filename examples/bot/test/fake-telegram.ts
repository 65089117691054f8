import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Upload = { name: string; type: string; data: Uint8Array }

/**
 * Splits a multipart/form-data body into its fields. Written for the test rather than taken from
 * fetch's Response.formData(), which refuses grammY's unquoted `filename=` parameter.
 */
export function parseMultipart(body: Buffer, contentType: string): Record<string, string | Upload> {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2]
  if (boundary === undefined) throw new Error(`no boundary in ${contentType}`)
  const fields: Record<string, string | Upload> = {}
  const delimiter = Buffer.from(`--${boundary}`)
  let at = body.indexOf(delimiter)
  if (at < 0) throw new Error('the body has no multipart delimiter')
  for (;;) {
    at += delimiter.length
    if (body.subarray(at, at + 2).toString() === '--') break
    at += 2 // CRLF after the delimiter
    const next = body.indexOf(delimiter, at)
    if (next < 0) throw new Error('a multipart part is not terminated')
    const part = body.subarray(at, next - 2) // without the CRLF before the next delimiter
    const split = part.indexOf('\r\n\r\n')
    if (split < 0) throw new Error('a multipart part has no header end')
    const headers = part.subarray(0, split).toString()
    const data = part.subarray(split + 4)
    const name = /name="([^"]*)"/i.exec(headers)?.[1]
    if (name === undefined) throw new Error(`a multipart part has no name: ${headers}`)
    const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1]
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'text/plain'
    fields[name] =
      filename === undefined ? data.toString('utf8') : { name: filename, type, data: new Uint8Array(data) }
    at = next
  }
  return fields
}

/** One Bot API call the bot made. */
export interface ApiCall {
  method: string
  params: Record<string, string>
  /** Uploaded files by form field name (after resolving `attach://` references). */
  files: Record<string, Upload>
}

export interface FakeTelegram {
  apiRoot: string
  token: string
  calls: ApiCall[]
  /** Queues a text message from a user, as getUpdates will deliver it. */
  sendText(chatId: number, text: string): void
  /** Resolves with the first call (made after `since` calls) that matches. */
  waitFor(predicate: (call: ApiCall) => boolean, since?: number, timeoutMs?: number): Promise<ApiCall>
  close(): Promise<void>
}

/**
 * How the fake fails a call: `reset` drops the connection, `hang` never answers, `bad-entities`
 * answers 400 as Telegram does when it cannot read a message's formatting.
 */
export type Failure = 'reset' | 'hang' | 'bad-entities'

export interface FakeTelegramOptions {
  /** @default '123456789:AAFakeTokenForTestsOnly_abcdefghij' */
  token?: string
  /** Picks the calls that fail, and how; the call is recorded first either way. */
  fail?: (method: string, params: Record<string, string>) => Failure | undefined
}

/**
 * A local stand-in for api.telegram.org, bound to 127.0.0.1: it answers getMe, serves queued
 * updates through long-polling getUpdates, parses JSON and multipart calls, and records
 * everything else (sendMessage, sendVoice...) with a plausible result.
 */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const { token = '123456789:AAFakeTokenForTestsOnly_abcdefghij', fail = () => undefined } = options
  const calls: ApiCall[] = []
  const updates: unknown[] = []
  let nextUpdate = 1
  let nextMessage = 1
  const waiting = new Set<() => void>()
  const watchers = new Set<() => void>()

  async function readParams(req: IncomingMessage, url: URL): Promise<Pick<ApiCall, 'params' | 'files'>> {
    const parts: Buffer[] = []
    for await (const part of req as AsyncIterable<Buffer>) parts.push(part)
    const body = Buffer.concat(parts)
    const type = req.headers['content-type'] ?? ''
    const params: Record<string, string> = Object.fromEntries(url.searchParams)
    const files: ApiCall['files'] = {}
    if (type.startsWith('application/json') && body.length > 0) {
      for (const [k, v] of Object.entries(JSON.parse(body.toString()) as Record<string, unknown>)) {
        params[k] = typeof v === 'string' ? v : JSON.stringify(v)
      }
    } else if (type.startsWith('multipart/form-data')) {
      const uploads = parseMultipart(body, type)
      for (const [k, v] of Object.entries(uploads)) if (typeof v === 'string') params[k] = v
      for (const [k, v] of Object.entries(params)) {
        const attached = /^attach:\/\/(.+)$/.exec(v)?.[1]
        const file = attached === undefined ? undefined : uploads[attached]
        if (file !== undefined && typeof file !== 'string') files[k] = file
      }
    }
    return { params, files }
  }

  function reply(res: ServerResponse, result: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }))
  }

  function message(chatId: number, extra: Record<string, unknown>) {
    return {
      message_id: nextMessage++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private' },
      ...extra,
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: false, error_code: 500, description: String(error) }))
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname)
    if (match === null || match[1] !== token) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: false, error_code: 401, description: 'Unauthorized' }))
      return
    }
    const method = match[2] ?? ''
    const { params, files } = await readParams(req, url)
    if (method === 'getUpdates') {
      const offset = Number(params.offset ?? 0)
      while (updates.length > 0 && ((updates[0] as { update_id: number }).update_id ?? 0) < offset)
        updates.shift()
      if (updates.length === 0 && Number(params.timeout ?? 0) > 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer)
            waiting.delete(wake)
            resolve()
          }
          const timer = setTimeout(wake, Number(params.timeout) * 1000)
          waiting.add(wake)
          req.once('close', wake)
          res.once('close', wake)
        })
      }
      if (res.destroyed) return
      reply(res, updates.slice(0, Number(params.limit ?? 100)))
      return
    }
    calls.push({ method, params, files })
    for (const watcher of watchers) watcher()
    const failure = fail(method, params)
    if (failure === 'reset') req.socket.destroy()
    if (failure === 'bad-entities') {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          ok: false,
          error_code: 400,
          description: "Bad Request: can't parse entities: unsupported start tag at byte offset 0",
        }),
      )
    }
    if (failure !== undefined) return
    const chatId = Number(params.chat_id ?? 0)
    if (method === 'getMe') {
      reply(res, { id: 123456789, is_bot: true, first_name: 'TauroBot', username: 'taurobot_test_bot' })
    } else if (method === 'sendMessage') {
      reply(res, message(chatId, { text: params.text ?? '' }))
    } else if (method === 'sendVoice') {
      const size = files.voice?.data.byteLength ?? 0
      reply(
        res,
        message(chatId, {
          voice: {
            file_id: `voice-${nextMessage}`,
            file_unique_id: `v${nextMessage}`,
            duration: Number(params.duration ?? 0),
            mime_type: 'audio/ogg',
            file_size: size,
          },
        }),
      )
    } else {
      reply(res, true)
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    calls,
    sendText(chatId, text) {
      const command = /^\/\w+/.exec(text)?.[0]
      updates.push({
        update_id: nextUpdate++,
        message: {
          ...message(chatId, { text }),
          from: { id: chatId, is_bot: false, first_name: 'Test' },
          ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
        },
      })
      for (const wake of [...waiting]) wake()
    },
    waitFor(predicate, since = 0, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = calls.slice(since).find(predicate)
          if (found === undefined) return
          watchers.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          watchers.delete(check)
          reject(
            new Error(
              `no matching Bot API call within ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(', ')}`,
            ),
          )
        }, timeoutMs)
        watchers.add(check)
        check()
      })
    },
    close() {
      for (const wake of [...waiting]) wake()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
