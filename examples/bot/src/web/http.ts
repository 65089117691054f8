import type { IncomingMessage, ServerResponse } from 'node:http'

/** A failure that the API reports as `{ "error": { code, message, field? } }`. */
export class ApiError extends Error {
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

const MAX_BODY_BYTES = 64 * 1024

/** A client's value as it can be quoted in an error message: JSON, cut to 60 characters. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

export function sendJson(
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

export function errorBody(error: ApiError): { error: { code: string; message: string; field?: string } } {
  return {
    error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
  }
}

/** The request's URL, or undefined when the client sent one that cannot be parsed (`GET http://[`). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', `http://${req.headers.host}`)
  } catch {
    return undefined
  }
}

/** The body as a JSON object, at most 64 KiB; anything else is the client's error, as an ApiError. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
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
  try {
    for await (const part of req as AsyncIterable<Buffer>) {
      size += part.length
      if (size > MAX_BODY_BYTES) {
        throw new ApiError(413, 'body-too-large', `the body must be at most ${MAX_BODY_BYTES} bytes`)
      }
      parts.push(part)
    }
  } catch (error) {
    if (error instanceof ApiError) throw error
    // The client went away or was cut off (request timeout) before the end of its body.
    throw new ApiError(400, 'body-incomplete', 'the body did not arrive in full')
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

/** Sends `data` whole, or the one byte range asked for (`Range: bytes=a-b`), as audio elements ask. */
export function sendRange(req: IncomingMessage, res: ServerResponse, data: Buffer, type: string): void {
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
