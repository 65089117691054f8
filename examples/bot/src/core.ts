import { speechText } from '@taurobot/voice'
import type { ChatMessage, Responder } from './responder/responder.js'
import {
  MAX_SPOKEN_CHARS,
  OFFLINE_NOTE,
  type SpokenClip,
  type StreamingVoice,
  speakWhileWriting,
} from './spoken-stream.js'

export type { SpokenClip } from './spoken-stream.js'

/** A conversation id: a Telegram chat id, or a prefixed id for the web chat. */
export type ConversationId = string | number

/** The part of `@taurobot/memory`'s store the bot uses. */
export interface BotMemory {
  add(id: ConversationId, message: { role: ChatMessage['role']; content: string }): Promise<ChatMessage>
  history(id: ConversationId, options?: { limit?: number }): Promise<ChatMessage[]>
  clear(id: ConversationId): Promise<boolean>
  stats(): Promise<object>
  /**
   * Streams a reply into the conversation as it is generated, so that a crash keeps what was
   * written (marked unfinished). Without it, or where the backend cannot (code `unsupported`), the
   * reply is added once complete.
   */
  reply?(id: ConversationId, message: { role: 'assistant' }): StreamedReply
  /** Replaces a message by id; used when the final reply differs from what streamed. */
  upsert?(id: ConversationId, message: { id: string; role: string; content: string }): Promise<ChatMessage>
}

/** The part of `@taurobot/memory`'s `Reply` the bot uses. */
export interface StreamedReply {
  readonly id: string
  readonly content: string
  append(delta: string): void
  end(): Promise<ChatMessage>
  abort(reason?: unknown): Promise<ChatMessage>
}

/** The part of `@taurobot/voice`'s `VoiceSystem` the bot uses. */
export interface BotVoice {
  synthesize(
    text: string,
    options: { format: 'ogg'; input: 'text'; signal?: AbortSignal },
  ): Promise<{ data: Uint8Array; mimeType: string; durationMs: number }>
  /** Speaks a reply sentence by sentence while it is written; without it, clips come whole. */
  stream?: StreamingVoice['stream']
}

/** What a front end that streams asks of `handle`. */
export interface HandleOptions {
  /** Each piece of the reply as it arrives. */
  onChunk?: (text: string) => void
  /**
   * Each spoken sentence, in order, as soon as it is ready, while the reply is still streaming.
   * With it, a spoken reply comes as these clips and `BotReply.voice` stays empty.
   */
  onClip?: (clip: SpokenClip) => void
  /** Where the message came in, for the reply timings. @default 'web' */
  frontEnd?: FrontEnd
}

/** Where a reply came in: the web chat or Telegram. */
export type FrontEnd = 'web' | 'telegram'

/** How one conversational reply went, reported by the bot's core. */
export interface ReplyTiming {
  frontEnd: FrontEnd
  /** The responder's name: `offline` or the model's. Bounded: the bot has one or two. */
  responder: string
  outcome: 'ok' | 'error'
  /** From the user's message to the reply stored. */
  seconds: number
  /** From the user's message to the reply's first piece, when it streamed. */
  firstChunkSeconds?: number
}

/** A spoken reply, ready to send as a Telegram voice note or play in a page. */
export interface VoiceClip {
  data: Uint8Array
  mimeType: string
  durationMs: number
}

/** What the bot answers to one incoming message. */
export interface BotReply {
  text: string
  /** The command that produced the reply, e.g. "voice"; absent for a conversational reply. */
  command?: string
  /** The stored assistant message, for conversational replies. */
  message?: ChatMessage
  /** The reply spoken, when voice replies are on for this conversation and synthesis worked. */
  voice?: VoiceClip
  /** Why a voice clip is missing although voice replies are on. */
  voiceError?: string
}

export interface TauroBotOptions {
  memory: BotMemory
  responder: Responder
  /** Without it /voice explains that speech is unavailable. */
  voice?: BotVoice
  /** The language replies are spoken in, for how `speechText` reads numbers, dates and money. @default 'en' */
  voiceLanguage?: string
  /** Extra lines for /stats, e.g. the voice pool's figures. */
  extraStats?: () => string[]
  /** @default console.error */
  logError?: (message: string, error: unknown) => void
  /** Told how each conversational reply went (commands are not replies), e.g. for /metrics. */
  onReply?: (timing: ReplyTiming) => void
}

/** The longest message accepted, as in the original bot (and Telegram's own limit). */
export const MAX_MESSAGE_CHARS = 4096
const HELP = [
  'Commands:',
  '/start - introduction',
  '/help - this list',
  '/clear - forget this conversation',
  '/stats - what is stored and how',
  '/voice - turn spoken replies on or off',
].join('\n')

/** Length in characters (code points), the way a user counts them. */
export function charLength(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** Formats `/stats` figures reported by a package, whatever numeric fields it has. */
export function describeFigures(figures: object): string {
  return Object.entries(figures)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`)
    .join(', ')
}

/**
 * The bot itself, shared by every front end: commands, the conversation in memory, the reply and,
 * when asked for, the reply spoken.
 */
export class TauroBot {
  readonly #memory: BotMemory
  readonly #responder: Responder
  readonly #voice: BotVoice | undefined
  readonly #voiceLanguage: string
  readonly #extraStats: () => string[]
  readonly #logError: (message: string, error: unknown) => void
  readonly #onReply: ((timing: ReplyTiming) => void) | undefined
  readonly #voiceOn = new Set<string>()
  // One message at a time per conversation, so a fast double send cannot interleave in memory.
  readonly #queues = new Map<string, Promise<unknown>>()

  constructor(options: TauroBotOptions) {
    this.#memory = options.memory
    this.#responder = options.responder
    this.#voice = options.voice
    this.#voiceLanguage = options.voiceLanguage ?? 'en'
    this.#extraStats = options.extraStats ?? (() => [])
    this.#logError = options.logError ?? ((message, error) => console.error(message, error))
    this.#onReply = options.onReply
  }

  /** Whether replies in this conversation are also spoken. */
  isVoiceOn(id: ConversationId): boolean {
    return this.#voiceOn.has(String(id))
  }

  /** Turns spoken replies on or off for one conversation; returns the new state. */
  setVoice(id: ConversationId, on: boolean): boolean {
    if (on && this.#voice === undefined) return false
    if (on) this.#voiceOn.add(String(id))
    else this.#voiceOn.delete(String(id))
    return on
  }

  /** The stored conversation, oldest first. */
  history(id: ConversationId, limit = 100): Promise<ChatMessage[]> {
    return this.#memory.history(id, { limit })
  }

  /** Answers one message from a user: a command, or a reply from the responder. */
  handle(id: ConversationId, text: string, options: HandleOptions = {}): Promise<BotReply> {
    if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`)
    const length = charLength(text)
    if (length > MAX_MESSAGE_CHARS) {
      throw new RangeError(`text must be at most ${MAX_MESSAGE_CHARS} characters, got ${length}`)
    }
    if (text.trim() === '') throw new RangeError('text must not be empty')
    const key = String(id)
    const previous = this.#queues.get(key) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.#handle(id, text.trim(), options))
    this.#queues.set(key, next)
    void next
      .finally(() => {
        if (this.#queues.get(key) === next) this.#queues.delete(key)
      })
      .catch(() => {})
    return next
  }

  async #handle(id: ConversationId, text: string, options: HandleOptions): Promise<BotReply> {
    const command = /^\/([a-z]+)(?:@\w+)?(?:\s|$)/i.exec(text)?.[1]?.toLowerCase()
    switch (command) {
      case 'start':
        return { command, text: this.#welcome() }
      case 'help':
        return { command, text: HELP }
      case 'clear': {
        const cleared = await this.#memory.clear(id)
        return {
          command,
          text: cleared ? 'Done: I have forgotten this conversation.' : 'There was nothing to forget.',
        }
      }
      case 'stats':
        return { command, text: await this.#stats(id) }
      case 'voice': {
        if (this.#voice === undefined)
          return { command, text: 'Voice replies are not available on this server.' }
        const on = this.setVoice(id, !this.isVoiceOn(id))
        return {
          command,
          text: on ? 'Voice replies are on: I will also speak my answers.' : 'Voice replies are off.',
        }
      }
      case undefined:
        break
      default:
        return { command, text: `I do not know /${command}.\n\n${HELP}` }
    }

    const started = performance.now()
    let firstChunkAt: number | undefined
    const timing = (outcome: ReplyTiming['outcome']): void => {
      const seconds = (at: number) => (at - started) / 1000
      this.#onReply?.({
        frontEnd: options.frontEnd ?? 'web',
        responder: this.#responder.name,
        outcome,
        seconds: seconds(performance.now()),
        ...(firstChunkAt === undefined ? {} : { firstChunkSeconds: seconds(firstChunkAt) }),
      })
    }
    let reply: string
    let message: ChatMessage
    let spoke: Promise<string | undefined> | undefined
    try {
      await this.#memory.add(id, { role: 'user', content: text })
      const history = await this.#memory.history(id, { limit: this.#responder.contextMessages })
      const speaker =
        options.onClip && this.isVoiceOn(id) && this.#voice?.stream
          ? speakWhileWriting({ stream: this.#voice.stream.bind(this.#voice) }, options.onClip)
          : undefined
      const forward = speaker
        ? (chunk: string) => {
            options.onChunk?.(chunk)
            speaker.write(chunk)
          }
        : options.onChunk
      let streamed: StreamedReply | undefined
      const onChunk = forward
        ? (chunk: string) => {
            if (firstChunkAt === undefined) {
              firstChunkAt = performance.now()
              streamed = this.#startReply(id)
            }
            streamed?.append(chunk)
            forward(chunk)
          }
        : undefined
      try {
        reply = await this.#responder.reply(onChunk ? { history, onChunk } : { history })
      } catch (error) {
        // What streamed stays in the conversation, marked unfinished and aborted.
        await streamed?.abort(error).catch(() => {})
        await speaker?.abort(error)
        throw error
      }
      // A responder that does not stream (offline) is spoken once its reply is complete.
      if (speaker && !speaker.written) speaker.write(reply)
      spoke = speaker?.end()
      try {
        message = streamed
          ? await this.#endReply(id, streamed, reply)
          : await this.#memory.add(id, { role: 'assistant', content: reply })
      } catch (error) {
        // No clip may reach a front end after the reply has failed.
        await speaker?.abort(error)
        throw error
      }
    } catch (error) {
      timing('error')
      throw error
    }
    timing('ok')
    const result: BotReply = { text: reply, message }
    if (spoke) {
      const voiceError = await spoke
      if (voiceError !== undefined) {
        this.#logError('voice synthesis failed:', voiceError)
        result.voiceError = voiceError
      }
    } else if (this.isVoiceOn(id) && this.#voice !== undefined) {
      try {
        const spoken = spokenText(reply, this.#voiceLanguage)
        if (spoken !== '') {
          // Already read as speech: the voice system must not read it as Markdown a second time.
          const clip = await this.#voice.synthesize(spoken, { format: 'ogg', input: 'text' })
          result.voice = { data: clip.data, mimeType: clip.mimeType, durationMs: clip.durationMs }
        }
      } catch (error) {
        this.#logError('voice synthesis failed:', error)
        result.voiceError = error instanceof Error ? error.message : String(error)
      }
    }
    return result
  }

  /** A reply streamed into memory, or undefined where the store cannot stream (it is added whole). */
  #startReply(id: ConversationId): StreamedReply | undefined {
    if (this.#memory.reply === undefined) return undefined
    try {
      return this.#memory.reply(id, { role: 'assistant' })
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'unsupported') throw error
      return undefined
    }
  }

  /**
   * Ends a streamed reply. The responder's final text may differ from what streamed (a model that
   * failed half-way is answered by the offline responder): the stored message then takes it.
   */
  async #endReply(id: ConversationId, streamed: StreamedReply, reply: string): Promise<ChatMessage> {
    const ended = await streamed.end()
    if (ended.content === reply) return ended
    if (this.#memory.upsert === undefined) return this.#memory.add(id, { role: 'assistant', content: reply })
    return this.#memory.upsert(id, { id: streamed.id, role: 'assistant', content: reply })
  }

  #welcome(): string {
    const offline = this.#responder.name === 'offline'
    return [
      'Hi! I am TauroBot.',
      offline
        ? 'No language model is connected, so I answer in offline mode: I cannot think, but I remember what you tell me. Start Ollama and set OLLAMA_HOST to give me a brain.'
        : `My replies come from ${this.#responder.name}, with our recent messages as context.`,
      'I keep our conversation between restarts, and /voice makes me speak.',
      '',
      HELP,
    ].join('\n')
  }

  async #stats(id: ConversationId): Promise<string> {
    const mine = await this.#memory.history(id, { limit: 100_000 })
    const store = await this.#memory.stats()
    return [
      `This conversation: ${mine.length} stored message${mine.length === 1 ? '' : 's'}${mine[0]?.timestamp ? ` since ${mine[0].timestamp}` : ''}.`,
      `Memory: ${describeFigures(store)}.`,
      `Voice replies: ${this.isVoiceOn(id) ? 'on' : 'off'}.`,
      ...this.#extraStats(),
      `Replies: ${this.#responder.name}.`,
    ].join('\n')
  }
}

/**
 * The reply as it is spoken: the Markdown the page shows, read by `speechText` from
 * `@taurobot/voice` (no markup, links by their text, no code blocks or emoji, numbers in words),
 * without the offline responder's bracketed note, and bounded in length at a sentence end.
 */
export function spokenText(reply: string, language = 'en'): string {
  const withoutNote = reply.replace(OFFLINE_NOTE, '')
  const text = speechText(withoutNote, { language })
  if (text.length <= MAX_SPOKEN_CHARS) return text
  const cut = text.slice(0, MAX_SPOKEN_CHARS)
  const sentence = cut.search(/[.!?…](?=\s[^.!?…]*$)/)
  const end = sentence > 0 ? sentence + 1 : cut.lastIndexOf(' ')
  return cut.slice(0, end > 0 ? end : MAX_SPOKEN_CHARS)
}
