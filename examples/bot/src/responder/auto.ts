import { OfflineResponder } from './offline.js'
import { type OllamaResponder, probeOllama } from './ollama.js'
import type { ReplyRequest, Responder } from './responder.js'

export interface AutoResponderOptions {
  /** How long to wait before asking a failed model server again. @default 30000 */
  retryMs?: number
  /** Where to report a switch between model and offline replies. @default console.warn */
  log?: (line: string) => void
}

/**
 * Uses the model server while it answers and the offline responder otherwise, so the bot keeps
 * replying when Ollama is stopped or was never installed, and picks it up again once it is back.
 */
export class AutoResponder implements Responder {
  readonly offline = new OfflineResponder()
  readonly #model: OllamaResponder | undefined
  readonly #retryMs: number
  readonly #log: (line: string) => void
  #modelUp = false
  #retryAt = 0

  constructor(model: OllamaResponder | undefined, options: AutoResponderOptions = {}) {
    this.#model = model
    this.#retryMs = options.retryMs ?? 30_000
    this.#log = options.log ?? ((line) => console.warn(line))
  }

  /** Probes the model server once; the result decides the replies until the next failure. */
  async start(): Promise<void> {
    if (this.#model === undefined) return
    const probe = await probeOllama(this.#model.host, this.#model.model)
    if (probe.available && probe.hasModel) {
      this.#modelUp = true
      this.#log(`replies: Ollama at ${this.#model.host.origin}, model ${this.#model.model}`)
    } else {
      this.#down(
        probe.available
          ? `model "${this.#model.model}" is not pulled (run: ollama pull ${this.#model.model})`
          : probe.reason,
      )
    }
  }

  get name(): string {
    return this.#model !== undefined && this.#modelUp ? this.#model.name : this.offline.name
  }

  get contextMessages(): number {
    return Math.max(this.offline.contextMessages, this.#model?.contextMessages ?? 0)
  }

  async reply(request: ReplyRequest): Promise<string> {
    const model = this.#model
    if (model !== undefined && !this.#modelUp && Date.now() >= this.#retryAt) await this.start()
    if (model === undefined || !this.#modelUp) return this.offline.reply(request)
    try {
      return await model.reply(request)
    } catch (error) {
      if (request.signal?.aborted) throw error
      this.#down(error instanceof Error ? error.message : String(error))
      return this.offline.reply(request)
    }
  }

  #down(reason: string): void {
    const model = this.#model
    if (model === undefined) return
    this.#modelUp = false
    this.#retryAt = Date.now() + this.#retryMs
    this.#log(
      `replies: offline responder (Ollama at ${model.host.origin} unavailable: ${reason}; retrying in ${Math.round(this.#retryMs / 1000)} s)`,
    )
  }
}
