import type { UIMessage } from 'ai'
import { MemoryError } from '../../errors.js'
import { jsonProblem } from '../../json-value.js'
import { checkMessageId, type Message, show } from '../../message.js'

/** The field of a stored message that holds the UIMessage, as it was given. */
export const UI_MESSAGE_FIELD = 'uiMessage'

const ROLES: ReadonlySet<unknown> = new Set(['system', 'user', 'assistant'])

/**
 * Checks every message of a chat before anything is written: an object with an id (unique in the
 * chat), a role of the AI SDK, an array of parts that each have a `type`, all of it plain JSON.
 * Throws a `MemoryError` with code `invalid-input` naming the first problem.
 */
export function checkUIMessages(chatId: string, messages: unknown): asserts messages is UIMessage[] {
  if (!Array.isArray(messages)) {
    throw invalid(chatId, `messages must be an array of UIMessage objects, got ${show(messages)}`)
  }
  const seen = new Set<string>()
  for (let i = 0; i < messages.length; i++) {
    const at = `messages[${i}]`
    const message: unknown = messages[i]
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw invalid(chatId, `${at} must be a UIMessage object, got ${show(message)}`)
    }
    const { id, role, parts } = message as Record<string, unknown>
    try {
      checkMessageId(id, `${at}.id`)
    } catch (error) {
      throw invalid(
        chatId,
        `${(error as Error).message}: every UIMessage needs the id the AI SDK gave it`,
        error,
      )
    }
    if (seen.has(id as string)) {
      throw invalid(chatId, `${at}.id ${JSON.stringify(id)} is used by an earlier message of the same chat`)
    }
    seen.add(id as string)
    if (!ROLES.has(role)) {
      throw invalid(chatId, `${at}.role must be 'system', 'user' or 'assistant', got ${show(role)}`)
    }
    if (!Array.isArray(parts)) throw invalid(chatId, `${at}.parts must be an array, got ${show(parts)}`)
    for (let j = 0; j < parts.length; j++) {
      const part: unknown = parts[j]
      const type = typeof part === 'object' && part !== null ? (part as { type?: unknown }).type : undefined
      if (typeof type !== 'string' || type.length === 0) {
        throw invalid(chatId, `${at}.parts[${j}] must be an object with a string type, got ${show(part)}`)
      }
    }
    const problem = jsonProblem(message, at)
    if (problem !== undefined) throw invalid(chatId, problem)
  }
}

function invalid(chatId: string, problem: string, cause?: unknown): MemoryError {
  return new MemoryError(
    'invalid-input',
    `cannot save chat ${JSON.stringify(chatId)}: ${problem}. Nothing was written.`,
    { details: { conversation: chatId }, cause },
  )
}

/**
 * The plain text of a message, for `history()`, `context()` and token budgets: its text parts,
 * one per line. Reasoning, tool and file parts are left out.
 */
export function textOf(message: UIMessage): string {
  const texts: string[] = []
  for (const part of message.parts) if (part.type === 'text') texts.push(part.text)
  return texts.join('\n')
}

/**
 * The UIMessage a stored message stands for: the one saved with it, or for a message added to the
 * conversation by other means (`memory.add()`, the Python bot) one text part with its content.
 * `undefined` when it can be neither (another role, such as `tool`).
 */
export function uiMessageOf(stored: Message): UIMessage | undefined {
  const saved = stored[UI_MESSAGE_FIELD]
  if (typeof saved === 'object' && saved !== null && !Array.isArray(saved)) return saved as UIMessage
  if (!ROLES.has(stored.role) || typeof stored.id !== 'string') return undefined
  return {
    id: stored.id,
    role: stored.role as UIMessage['role'],
    parts: [{ type: 'text', text: stored.content }],
  }
}
