import { MemoryError } from './errors.js'
import type { Memory } from './memory-api.js'
import { show } from './message.js'
import { booleanOption, knownOptions, optionalFunction } from './options.js'

/** Where a migration is, passed to {@link MigrateOptions.onProgress} after each conversation. */
export interface MigrateProgress {
  /** Conversations copied so far. */
  readonly conversations: number
  /** Conversations to copy in all. */
  readonly totalConversations: number
  /** Messages copied so far. */
  readonly messages: number
  /** Messages to copy in all. */
  readonly totalMessages: number
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Called after each copied conversation (and once before the first). */
  onProgress?: (progress: MigrateProgress) => void
  /**
   * Replace conversations the destination already holds. Without it, a migration into a store
   * that already has one of the conversations is refused before anything is copied.
   * @default false
   */
  replace?: boolean
}

/** What {@link migrate} copied; the destination was checked to hold exactly these counts. */
export interface MigrateResult {
  /** Conversations copied. */
  readonly conversations: number
  /** Messages copied. */
  readonly messages: number
}

const FLUSH_EVERY = 1000

function isMemory(value: unknown): value is Memory {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Partial<Memory>
  return (
    typeof m.add === 'function' &&
    typeof m.history === 'function' &&
    typeof m.conversations === 'function' &&
    typeof m.clear === 'function' &&
    typeof m.flush === 'function'
  )
}

const OPTION_NAMES = new Set(['onProgress', 'replace'])

/**
 * Copies every conversation of one open store into another, such as from the file backend to
 * Redis or back, then checks that the destination holds as many messages per conversation as
 * were read. The source is only read; stop writers to it while the migration runs.
 *
 * @example
 * ```ts
 * import { migrate, openMemory } from '@taurobot/memory'
 * import { redisBackend } from '@taurobot/memory/redis'
 *
 * const from = await openMemory({ path: 'memory/conversations.json' })
 * const to = await openMemory({ backend: redisBackend({ url: 'redis://127.0.0.1:6379' }) })
 * const { conversations, messages } = await migrate(from, to, {
 *   onProgress: (p) => console.log(`${p.conversations}/${p.totalConversations}`),
 * })
 * await Promise.all([from.close(), to.close()])
 * ```
 */
export async function migrate(
  from: Memory,
  to: Memory,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  if (!isMemory(from)) throw new TypeError(`from must be a store opened with openMemory(), got ${show(from)}`)
  if (!isMemory(to)) throw new TypeError(`to must be a store opened with openMemory(), got ${show(to)}`)
  if (from === to) throw new TypeError('from and to must be different stores, got the same store twice')
  const o = knownOptions(options, OPTION_NAMES)
  const onProgress = optionalFunction<(progress: MigrateProgress) => void>('onProgress', o.onProgress)
  const replace = booleanOption('replace', o.replace, false)

  const source: Array<{ id: string; messages: number }> = []
  let totalMessages = 0
  for await (const summary of from.conversations()) {
    source.push({ id: summary.id, messages: summary.messages })
    totalMessages += summary.messages
  }
  const existing = new Set<string>()
  for await (const summary of to.conversations()) existing.add(summary.id)
  const clashes = source.filter((s) => existing.has(s.id)).map((s) => s.id)
  if (clashes.length > 0 && !replace) {
    throw new MemoryError(
      'migration',
      `the destination already holds ${clashes.length} of the conversations to copy (${clashes
        .slice(0, 3)
        .map((id) => show(id))
        .join(
          ', ',
        )}${clashes.length > 3 ? ', …' : ''}). Nothing was copied. Pass replace: true (--replace on the command line) to overwrite them.`,
      { details: { conversations: clashes } },
    )
  }

  const progress = { conversations: 0, totalConversations: source.length, messages: 0, totalMessages }
  onProgress?.({ ...progress })
  const copied = new Map<string, number>()
  let sinceFlush = 0
  for (const { id } of source) {
    if (existing.has(id)) await to.clear(id)
    const messages = await from.history(id)
    for (const message of messages) {
      await to.add(id, message)
      // Bounded by the destination's maxPending, whatever the size of the source.
      if (++sinceFlush >= FLUSH_EVERY) {
        await to.flush()
        sinceFlush = 0
      }
    }
    copied.set(id, messages.length)
    progress.conversations++
    progress.messages += messages.length
    onProgress?.({ ...progress })
  }
  await to.flush()

  const mismatches: Array<{ id: string; expected: number; found: number }> = []
  const found = new Map<string, number>()
  for await (const summary of to.conversations()) found.set(summary.id, summary.messages)
  for (const [id, expected] of copied) {
    const count = found.get(id) ?? 0
    if (count !== expected) mismatches.push({ id, expected, found: count })
  }
  if (mismatches.length > 0) {
    const first = mismatches[0] as { id: string; expected: number; found: number }
    throw new MemoryError(
      'migration',
      `the count check failed for ${mismatches.length} conversations: ${show(first.id)} has ${first.found} messages in the destination, ${first.expected} were copied. Check the destination's maxMessages and that nothing else writes to it.`,
      { details: { mismatches } },
    )
  }
  return { conversations: progress.conversations, messages: progress.messages }
}
