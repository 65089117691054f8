import type { ChatMessage, ReplyRequest, Responder } from './responder.js'

const NAME = /\b(?:my name is|i am called|call me)\s+([\p{L}][\p{L}'-]{0,39})/iu
const RECALL = /\b(?:what did i (?:say|tell you)|do you remember|remember|recall|what have i said)\b/iu
const GREETING = /^(?:hi|hello|hey|ciao|good (?:morning|evening|afternoon)|salve)\b/iu

function quote(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return `“${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}”`
}

/** Ends a line with a full stop, unless the quote it ends with already closes a sentence. */
function sentence(line: string): string {
  return /[.!?…]”$/.test(line) ? line : `${line}.`
}

function nameFrom(messages: readonly ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]
    if (m?.role !== 'user') continue
    const found = NAME.exec(m.content)
    if (found?.[1]) return found[1]
  }
  return undefined
}

/**
 * The responder used when no model server answers. It cannot understand anything, and says so
 * plainly, but it reads the conversation from memory: it greets the user by the name they gave,
 * counts the messages and quotes what they said earlier, so every package of the demo visibly works.
 */
export class OfflineResponder implements Responder {
  readonly name = 'offline'
  // The whole stored conversation: recalling old messages is this responder's only trick.
  readonly contextMessages = 1000

  async reply({ history }: ReplyRequest): Promise<string> {
    const current = history.at(-1)
    const text = current?.role === 'user' ? current.content : ''
    const earlier = history
      .slice(0, current?.role === 'user' ? -1 : undefined)
      .filter((m) => m.role === 'user')
    const name = nameFrom(history)
    const lines: string[] = [
      '[offline mode: no language model is connected, so I can only remember, not think]',
    ]

    const introduced = NAME.exec(text)?.[1]
    if (introduced) {
      lines.push(`Nice to meet you, ${introduced}! I will remember your name.`)
    } else if (GREETING.test(text)) {
      lines.push(
        name ? `Hello again, ${name}!` : 'Hello! Tell me your name ("my name is …") and I will remember it.',
      )
    } else if (RECALL.test(text)) {
      if (earlier.length === 0) {
        lines.push('This is the first thing you have told me, so there is nothing to recall yet.')
      } else {
        const last = earlier.slice(-3).map((m) => `• ${quote(m.content)}`)
        lines.push(
          `You have sent me ${earlier.length} message${earlier.length === 1 ? '' : 's'} before this one. The last ones:`,
          ...last,
        )
      }
    } else {
      lines.push(sentence(`You said ${quote(text)}`))
    }

    if (!introduced && !RECALL.test(text) && earlier.length > 0) {
      const first = earlier[0]
      const previous = earlier.at(-1)
      if (previous && previous !== first) {
        lines.push(
          sentence(
            `Before that you said ${quote(previous.content, 60)}, and the first thing you told me was ${quote(first?.content ?? '', 60)}`,
          ),
        )
      } else if (previous) {
        lines.push(sentence(`Before that you said ${quote(previous.content, 60)}`))
      }
    }
    if (!introduced && name && !GREETING.test(text)) lines.push(`(I remember you, ${name}.)`)
    return lines.join('\n')
  }
}
