// The replies of a store that are still streaming, by conversation: what history() adds to the
// stored and pending messages, and what flush(), close() and clear() must reach.
import { indexOfId } from './backends/operations.js'
import { MemoryError } from './errors.js'
import type { Message } from './message.js'
import type { ReplyStream } from './reply.js'

export class ReplyRegistry {
  private readonly byConversation = new Map<string, Set<ReplyStream>>()

  /** Registers a new reply; refuses one whose id another live reply of the conversation has. */
  add(reply: ReplyStream): void {
    let set = this.byConversation.get(reply.conversation)
    if (set === undefined) {
      set = new Set()
      this.byConversation.set(reply.conversation, set)
    }
    for (const other of set) {
      if (other.id !== reply.id) continue
      throw new MemoryError(
        'duplicate-id',
        `reply id ${JSON.stringify(reply.id)} is already streaming in conversation ${JSON.stringify(reply.conversation)}; nothing was written. End or abort that reply first, or give this one another id.`,
        { details: { conversation: reply.conversation, id: reply.id } },
      )
    }
    set.add(reply)
  }

  /** Forgets a reply that was ended or aborted. */
  delete(reply: ReplyStream): void {
    const set = this.byConversation.get(reply.conversation)
    if (set === undefined) return
    set.delete(reply)
    if (set.size === 0) this.byConversation.delete(reply.conversation)
  }

  /** True when a reply of the conversation holds text not yet handed to the batcher. */
  hasUnsent(key: string): boolean {
    const set = this.byConversation.get(key)
    if (set === undefined) return false
    for (const reply of set) if (reply.unsent !== '') return true
    return false
  }

  /**
   * `view` (the conversation as stored plus its pending changes) with the text of its replies not
   * yet handed over appended to their messages. Never changes `view` or its messages.
   */
  withUnsent(key: string, view: Message[]): Message[] {
    const set = this.byConversation.get(key)
    if (set === undefined) return view
    let result = view
    for (const reply of set) {
      const unsent = reply.unsent
      if (unsent === '') continue
      const at = indexOfId(result, reply.id)
      if (at < 0) continue
      if (result === view) result = view.slice()
      const message = result[at] as Message
      result[at] = { ...message, content: message.content + unsent }
    }
    return result
  }

  /** Hands every live reply's unsent text to the batcher; resolves once each hand-over settled. */
  async handOverAll(): Promise<void> {
    const replies: ReplyStream[] = []
    for (const set of this.byConversation.values()) for (const reply of set) replies.push(reply)
    await Promise.all(replies.map((reply) => reply.handOverNow()))
  }

  /** Stops the replies of a cleared conversation (all) or of a removed message (`messageId`). */
  drop(key: string, messageId?: string): void {
    const set = this.byConversation.get(key)
    if (set === undefined) return
    for (const reply of set) {
      if (messageId !== undefined && reply.id !== messageId) continue
      reply.drop()
      set.delete(reply)
    }
    if (set.size === 0) this.byConversation.delete(key)
  }

  /** Stops every reply (destroy). */
  dropAll(): void {
    for (const key of [...this.byConversation.keys()]) this.drop(key)
  }
}
