import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ChatMessage } from '../src/responder/responder.js'

export interface FakeOllama {
  url: URL
  requests: { path: string; body: unknown }[]
  close(): Promise<void>
}

/**
 * Ollama cannot be installed here, so its HTTP protocol is served by a small local server: the
 * tags list and a streamed /api/chat in newline-delimited JSON, split mid-line on purpose. With
 * `hold`, the first piece of the answer is sent whole and the rest only once `hold()` resolves,
 * so a test can look at a reply while it is still streaming.
 */
export async function fakeOllama(
  models: string[],
  answer: (body: { messages: ChatMessage[] }) => string[],
  options: { hold?: () => Promise<void> } = {},
): Promise<FakeOllama> {
  const requests: FakeOllama['requests'] = []
  const read = async (req: IncomingMessage) => {
    const parts: Buffer[] = []
    for await (const part of req as AsyncIterable<Buffer>) parts.push(part)
    return parts.length ? (JSON.parse(Buffer.concat(parts).toString()) as unknown) : undefined
  }
  const server: Server = createServer(async (req, res) => {
    const body = await read(req)
    requests.push({ path: req.url ?? '', body })
    if (req.url === '/api/tags') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ models: models.map((name) => ({ name })) }))
      return
    }
    if (req.url === '/api/chat') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      const lines = answer(body as { messages: ChatMessage[] }).map(
        (content) => `${JSON.stringify({ message: { role: 'assistant', content }, done: false })}\n`,
      )
      const text = `${lines.join('')}${JSON.stringify({ message: { role: 'assistant', content: '' }, done: true })}\n`
      if (options.hold !== undefined) {
        const first = lines[0]?.length ?? 0
        res.write(text.slice(0, first))
        void options.hold().then(() => res.end(text.slice(first)))
        return
      }
      const cut = Math.floor(text.length / 2)
      res.write(text.slice(0, cut))
      setTimeout(() => res.end(text.slice(cut)), 10)
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
