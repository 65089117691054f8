import { join } from 'node:path'
import { fileBackend, openMemory } from '@taurobot/memory'
import { PythonJsonMemory } from '../baselines/python-memory.js'
import { LowdbMemory } from '../peers/lowdb-memory.js'
import type { ChatEvent } from './workload.js'
import { userId } from './workload.js'

/** The four file stores compared by the memory benches, behind one tiny interface. */
export interface BenchStore {
  add(event: ChatEvent): Promise<unknown>
  /** Durable saves so far, as the store itself counts them. */
  saves(): number
  /**
   * fsync/fdatasync calls made off the main thread so far, which the fs wrapper of fs-count.ts
   * cannot see: @taurobot/memory's background compactions run on a worker thread, each with two
   * (the snapshot's temp file and its directory).
   */
  workerSyncs(): Promise<number>
  /** Writes what is pending now (a no-op for stores that save inside `add`). */
  flush(): Promise<void>
  close(): Promise<void>
  /** The snapshot file every store here writes. */
  readonly path: string
}

export type StoreKind = 'ours' | 'python-every-message' | 'python-every-5' | 'lowdb'

export const STORE_LABELS: Record<StoreKind, string> = {
  ours: '@taurobot/memory',
  'python-every-message': 'Python: save every message',
  'python-every-5': 'Python: save every 5',
  lowdb: 'lowdb',
}

/** Opens a store of the given kind on `dir/conversations.json`. */
export async function openStore(
  kind: StoreKind,
  dir: string,
  options: {
    maxMessages?: number
    saveEvery?: number
    durability?: 'batched' | 'strict'
    /** Passed to the file backend; its default otherwise. */
    compactionRatio?: number
    /** Passed to the file backend; its default otherwise. */
    journalSync?: 'dsync' | 'fdatasync'
  } = {},
): Promise<BenchStore> {
  const path = join(dir, 'conversations.json')
  const maxMessages = options.maxMessages ?? 1000
  if (kind === 'python-every-message' || kind === 'python-every-5') {
    const store = new PythonJsonMemory({ path, saveEvery: kind === 'python-every-5' ? 5 : 1, maxMessages })
    return {
      add: (e) => store.addMessage(userId(e.user), e.role, e.content),
      saves: () => store.saves,
      workerSyncs: async () => 0,
      flush: () => store.close(),
      close: () => store.close(),
      path,
    }
  }
  if (kind === 'lowdb') {
    const store = await LowdbMemory.open(path, maxMessages)
    return {
      add: (e) => store.addMessage(userId(e.user), e.role, e.content),
      saves: () => store.saves,
      workerSyncs: async () => 0,
      flush: async () => {},
      close: () => store.close(),
      path,
    }
  }
  const memory = await openMemory({
    ...(options.compactionRatio === undefined && options.journalSync === undefined
      ? { path }
      : {
          backend: fileBackend({
            path,
            ...(options.compactionRatio === undefined ? {} : { compactionRatio: options.compactionRatio }),
            ...(options.journalSync === undefined ? {} : { journalSync: options.journalSync }),
          }),
        }),
    maxMessages,
    saveEvery: options.saveEvery ?? 5,
    durability: options.durability ?? 'batched',
  })
  let saves = 0
  memory.on('save', () => saves++)
  return {
    add: (e) => memory.add(userId(e.user), { role: e.role, content: e.content }),
    saves: () => saves,
    workerSyncs: async () => 2 * ((await memory.stats()).compactions ?? 0),
    flush: () => memory.flush(),
    close: () => memory.close(),
    path,
  }
}

/**
 * Writes a conversations file in the Python bot's format with `users × perUser` messages, which
 * every store here can open: the starting history for the benches.
 */
export function legacyFile(events: readonly ChatEvent[]): string {
  const conversations: Record<string, Array<{ role: string; content: string; timestamp: string }>> = {}
  let t = Date.UTC(2026, 0, 1)
  for (const e of events) {
    const key = String(userId(e.user))
    let list = conversations[key]
    if (list === undefined) {
      list = []
      conversations[key] = list
    }
    t += 1000
    list.push({ role: e.role, content: e.content, timestamp: new Date(t).toISOString().replace('Z', '000') })
  }
  return JSON.stringify(
    { conversations, last_updated: new Date(t).toISOString().replace('Z', '000') },
    null,
    2,
  )
}
