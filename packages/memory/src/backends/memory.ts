import type {
  AppendResult,
  Backend,
  BackendContext,
  BackendStats,
  BatchEntry,
  ConversationSummary,
} from '../backend.js'
import { MemoryError } from '../errors.js'
import { type Message, messageTime } from '../message.js'
import { applyOperations } from './operations.js'
import { dropOldest } from './trim.js'

/**
 * Creates an in-process backend: nothing is written anywhere, everything is lost when the process
 * ends. Meant for tests and ephemeral bots.
 *
 * @example
 * ```ts
 * import { memoryBackend, openMemory } from '@taurobot/memory'
 * const memory = await openMemory({ backend: memoryBackend() })
 * ```
 */
export function memoryBackend(): Backend {
  return new InProcessBackend()
}

class InProcessBackend implements Backend {
  readonly name = 'memory'
  readonly operations = true
  readonly extend = true
  private readonly conversationsById = new Map<string, Message[]>()
  private maxMessages = Number.POSITIVE_INFINITY
  private messageCount = 0
  private state: 'new' | 'open' | 'closed' = 'new'

  async open(context: BackendContext): Promise<void> {
    if (this.state !== 'new') {
      throw new MemoryError(
        'closed',
        'this memory backend was already opened once. Create a new one with memoryBackend().',
      )
    }
    this.maxMessages = context.maxMessages
    this.state = 'open'
  }

  async append(batch: readonly BatchEntry[]): Promise<AppendResult> {
    this.assertOpen()
    for (const entry of batch) {
      let list = this.conversationsById.get(entry.id)
      if (list === undefined) {
        list = []
        this.conversationsById.set(entry.id, list)
      }
      if (entry.operations !== undefined) {
        this.messageCount += applyOperations(list, entry.operations, this.maxMessages)
      } else {
        for (const message of entry.messages) list.push(message)
        this.messageCount += entry.messages.length
      }
      const excess = list.length - this.maxMessages
      if (excess > 0) {
        dropOldest(list, excess)
        this.messageCount -= excess
      }
    }
    return { bytes: 0 }
  }

  async read(id: string, limit?: number): Promise<Message[]> {
    this.assertOpen()
    const list = this.conversationsById.get(id)
    if (list === undefined) return []
    return limit === undefined ? list.slice() : list.slice(Math.max(0, list.length - limit))
  }

  async has(id: string): Promise<boolean> {
    this.assertOpen()
    return this.conversationsById.has(id)
  }

  async clear(id: string): Promise<boolean> {
    this.assertOpen()
    const list = this.conversationsById.get(id)
    if (list === undefined) return false
    this.messageCount -= list.length
    this.conversationsById.delete(id)
    return true
  }

  async *conversations(): AsyncIterable<ConversationSummary> {
    this.assertOpen()
    for (const [id, list] of [...this.conversationsById]) {
      const last = list[list.length - 1]
      if (last === undefined) yield { id, messages: 0 }
      // A copied message may hold a timestamp that is no string: an unreadable time, as none.
      else if (typeof last.timestamp !== 'string') yield { id, messages: list.length }
      else yield { id, messages: list.length, lastTimestamp: last.timestamp }
    }
  }

  async prune(cutoff: number): Promise<string[]> {
    this.assertOpen()
    const removed: string[] = []
    for (const [id, list] of this.conversationsById) {
      if (messageTime(list[list.length - 1]) < cutoff) removed.push(id)
    }
    for (const id of removed) await this.clear(id)
    return removed
  }

  async stats(): Promise<BackendStats> {
    this.assertOpen()
    return { conversations: this.conversationsById.size, messages: this.messageCount, bytesWritten: 0 }
  }

  async close(): Promise<void> {
    this.state = 'closed'
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new MemoryError(
        'closed',
        `the memory backend is ${this.state === 'new' ? 'not open yet' : 'closed'}.`,
      )
    }
  }
}
