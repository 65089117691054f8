import type { ChatMessage, ReplyRequest, Responder } from './responder.js'

export interface OllamaOptions {
  /** Base URL of the Ollama server, e.g. http://127.0.0.1:11434. The only host this talks to. */
  host: URL
  /** @default 'llama3.2' */
  model?: string
  /** Recent messages sent as context. @default 10 */
  contextMessages?: number
  /** Time allowed for the first byte of a reply. @default 60000 */
  timeoutMs?: number
  /** Longest reply kept; the stream is cut there. @default 8000 */
  maxReplyChars?: number
  /** @default 'You are TauroBot, a friendly and concise assistant in a chat app.' */
  system?: string
}

/** What {@link probeOllama} found. */
export type OllamaProbe =
  | { available: true; models: string[]; hasModel: boolean }
  | { available: false; reason: string }

function endpoint(host: URL, path: string): URL {
  // Resolve against the configured base only; never follow redirects to somewhere else.
  const base = host.href.endsWith('/') ? host.href : `${host.href}/`
  return new URL(path, base)
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}

/** Asks an Ollama server which models it has, giving up after `timeoutMs`. */
export async function probeOllama(host: URL, model: string, timeoutMs = 1500): Promise<OllamaProbe> {
  try {
    const response = await fetch(endpoint(host, 'api/tags'), {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    })
    if (!response.ok) return { available: false, reason: `GET /api/tags answered ${response.status}` }
    const body = (await response.json()) as { models?: { name?: unknown }[] }
    const models = (body.models ?? []).map((m) => m.name).filter((n): n is string => typeof n === 'string')
    const hasModel = models.some((n) => n === model || n === `${model}:latest`)
    return { available: true, models, hasModel }
  } catch (error) {
    return { available: false, reason: describe(error) }
  }
}

/** Replies from a local Ollama model through `/api/chat`, streamed as newline-delimited JSON. */
export class OllamaResponder implements Responder {
  readonly host: URL
  readonly model: string
  readonly contextMessages: number
  readonly #timeoutMs: number
  readonly #maxReplyChars: number
  readonly #system: string

  constructor(options: OllamaOptions) {
    this.host = options.host
    this.model = options.model ?? 'llama3.2'
    this.contextMessages = options.contextMessages ?? 10
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#maxReplyChars = options.maxReplyChars ?? 8000
    this.#system = options.system ?? 'You are TauroBot, a friendly and concise assistant in a chat app.'
  }

  get name(): string {
    return `ollama (${this.model})`
  }

  async reply({ history, onChunk, signal }: ReplyRequest): Promise<string> {
    const messages: ChatMessage[] = [
      { role: 'system', content: this.#system },
      // Ollama knows three roles; anything else an old file may hold is shown as the user's.
      ...history.slice(-this.contextMessages).map(({ role, content }) => ({
        role: role === 'assistant' || role === 'system' ? role : 'user',
        content,
      })),
    ]
    const timeout = AbortSignal.timeout(this.#timeoutMs)
    const response = await fetch(endpoint(this.host, 'api/chat'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: this.model, messages, stream: true }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'error',
    })
    if (!response.ok || response.body === null) {
      const detail = await response.text().catch(() => '')
      throw new Error(`Ollama answered ${response.status} for model "${this.model}": ${detail.slice(0, 200)}`)
    }
    let reply = ''
    let buffered = ''
    const decoder = new TextDecoder()
    const take = (line: string): boolean => {
      if (line.trim() === '') return false
      const part = JSON.parse(line) as { message?: { content?: unknown }; done?: unknown; error?: unknown }
      if (typeof part.error === 'string') throw new Error(`Ollama: ${part.error}`)
      const piece = typeof part.message?.content === 'string' ? part.message.content : ''
      if (piece !== '') {
        const room = this.#maxReplyChars - reply.length
        const kept = piece.slice(0, Math.max(0, room))
        reply += kept
        if (kept !== '') onChunk?.(kept)
      }
      return part.done === true || reply.length >= this.#maxReplyChars
    }
    const reader = response.body.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        buffered += decoder.decode(value, { stream: !done })
        const lines = buffered.split('\n')
        buffered = done ? '' : (lines.pop() ?? '')
        if (lines.some(take) || done) break
      }
    } finally {
      await reader.cancel().catch(() => {})
    }
    if (reply.trim() === '') throw new Error(`Ollama model "${this.model}" returned an empty reply`)
    return reply
  }
}
