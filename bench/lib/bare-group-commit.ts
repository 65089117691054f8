import { randomUUID } from 'node:crypto'
import { write } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import type { BenchStore } from './memory-stores.js'
import { type ChatEvent, userId } from './workload.js'

interface Waiting {
  conversation: string
  message: { role: string; content: string; timestamp: string; id: string }
  resolve: (copy: object) => void
  reject: (error: unknown) => void
}

/**
 * The least JavaScript a durable group commit needs, as a floor for the strict bench: per message a
 * timestamp, an id, a promise and its JSON; per group one `JSON.stringify` and one write on a
 * descriptor opened with O_DSYNC, into space made durable beforehand (the method the store uses).
 * No checks, no checksum, no history kept in memory, no recovery: not a store, only what any store
 * of this design must spend before the disk. Every add() that arrives while a write is in flight
 * joins the next one, so with 50 writers each group holds up to 50 messages.
 */
export function bareGroupCommit(handle: FileHandle, preparedBytes: number): BenchStore {
  let waiting: Waiting[] = []
  let writing = false
  let position = 0
  let seq = 0
  let writes = 0
  const flush = (): void => {
    if (writing || waiting.length === 0) return
    writing = true
    const group = waiting
    waiting = []
    const byConversation = new Map<string, object[]>()
    for (const entry of group) {
      const list = byConversation.get(entry.conversation)
      if (list === undefined) byConversation.set(entry.conversation, [entry.message])
      else list.push(entry.message)
    }
    seq += 1
    const line = Buffer.from(`${JSON.stringify({ s: seq, a: [...byConversation] })}\n`)
    if (position + line.length > preparedBytes) position = 0
    write(handle.fd, line, 0, line.length, position, (error) => {
      writing = false
      if (error) for (const entry of group) entry.reject(error)
      else {
        position += line.length
        writes += 1
        for (const entry of group) entry.resolve({ ...entry.message })
      }
      flush()
    })
  }
  return {
    add: (event: ChatEvent) =>
      new Promise((resolve, reject) => {
        waiting.push({
          conversation: String(userId(event.user)),
          message: {
            role: event.role,
            content: event.content,
            timestamp: new Date().toISOString(),
            id: randomUUID(),
          },
          resolve,
          reject,
        })
        // After the adds of this turn, as a store's group commit waits for them.
        if (!writing && waiting.length === 1) queueMicrotask(flush)
      }),
    saves: () => writes,
    workerSyncs: async () => 0,
    flush: async () => {},
    close: () => handle.close(),
    path: '',
  }
}
