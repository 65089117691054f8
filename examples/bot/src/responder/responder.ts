/** One message of a conversation as the responders see it. */
export interface ChatMessage {
  /** 'user', 'assistant' or 'system' for the bot's own messages; older files may hold others. */
  role: string
  content: string
  timestamp?: string
  /** Its id in the conversation, once stored. */
  id?: string
}

/** What a responder gets for one user message. */
export interface ReplyRequest {
  /** The conversation so far, oldest first, ending with the message to answer. */
  history: readonly ChatMessage[]
  /** Called with each piece of the reply as it arrives, for front ends that stream. */
  onChunk?: (text: string) => void
  signal?: AbortSignal
}

/** Turns a conversation into the bot's next message. */
export interface Responder {
  /** Shown in /start and /stats, e.g. "offline" or "ollama (llama3.2)". */
  readonly name: string
  /** How many recent messages of the conversation this responder wants to see. */
  readonly contextMessages: number
  reply(request: ReplyRequest): Promise<string>
}
