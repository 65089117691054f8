import { count } from './count.js'
import { MemoryError } from './errors.js'
import type { Memory } from './memory-api.js'
import { conversationKey, type Message, show } from './message.js'
import { booleanOption, knownOptions, optionalFunction } from './options.js'
import {
  COMPLETE_SNAPSHOT,
  COPY_MESSAGE,
  COPY_PROBLEM,
  KEPT_PER_CONVERSATION,
  type StoreInternals,
} from './store-internals.js'

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
  /**
   * Stops the migration between two conversations when aborted: what is copied so far is written (into
   * the JSON file backend, with the snapshot rewritten), then `migrate()` rejects with code
   * `migration`, `details.copied` and `details.totalConversations` saying how far it got.
   */
  signal?: AbortSignal
}

/** What {@link migrate} copied; the destination was checked to hold exactly these counts. */
export interface MigrateResult {
  /** Conversations copied. */
  readonly conversations: number
  /** Messages copied. */
  readonly messages: number
  /**
   * Conversations of the source without messages (such as `"42": []` in a JSON file), which are
   * not copied: a store creates a conversation with its first message, and SQLite and Redis keep
   * none without messages. They are counted in neither `conversations` nor the count check.
   */
  readonly emptyConversations: number
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

const OPTION_NAMES = new Set(['onProgress', 'replace', 'signal'])

/**
 * Copies every conversation of one open store into another, such as from the file backend to
 * Redis or back, then checks that the destination holds as many messages per conversation as
 * the source does. The source is only read; stop writers to it while the migration runs.
 * Conversations without messages are not copied (see {@link MigrateResult.emptyConversations}).
 *
 * Nothing is trimmed: when a conversation holds more messages than the source or the destination
 * keeps (their `maxMessages`), the migration is refused with code `migration` before anything is
 * copied, naming the conversation, its length and the option to raise. A file source trims to
 * its `maxMessages` as it loads, so open it with a `maxMessages` at least its longest
 * conversation. Into the JSON file backend, the migration ends with the snapshot rewritten, so
 * that readers of the snapshot alone (the Python bot) see every message.
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
  const signal = o.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`signal must be an AbortSignal, got ${show(signal)}`)
  }

  const source: Array<{ id: string; messages: number }> = []
  let totalMessages = 0
  let emptyConversations = 0
  for await (const summary of from.conversations()) {
    // Nothing to copy, and nothing a destination would keep: said apart in the result.
    if (summary.messages === 0) {
      emptyConversations++
      continue
    }
    source.push({ id: summary.id, messages: summary.messages })
    totalMessages += summary.messages
  }
  assertKept(source, from, 'source')
  assertKept(source, to, 'destination')
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

  await assertCopyable(source, from, to, signal)

  const progress = { conversations: 0, totalConversations: source.length, messages: 0, totalMessages }
  onProgress?.({ ...progress })
  const expected = new Map<string, number>()
  // Messages are copied as they are: one without a timestamp is not given the migration's time.
  // Any other Memory gets add(), which fills it in.
  const copy: (id: string, message: Message) => Promise<unknown> =
    (to as StoreInternals)[COPY_MESSAGE]?.bind(to) ?? ((id, message) => to.add(id, message))
  let sinceFlush = 0
  for (const { id, messages: count } of source) {
    if (signal?.aborted) break
    expected.set(id, count)
    // Read before the destination's copy is deleted: nothing of the destination goes before the
    // source has given what replaces it.
    const messages = await from.history(id)
    if (existing.has(id)) await to.clear(id)
    for (const message of messages) {
      await copy(id, message)
      // Bounded by the destination's maxPending, whatever the size of the source.
      if (++sinceFlush >= FLUSH_EVERY) {
        await to.flush()
        sinceFlush = 0
      }
    }
    progress.conversations++
    progress.messages += messages.length
    onProgress?.({ ...progress })
  }
  // Any Memory writes what it holds; into the file backend, also a complete snapshot for readers
  // that ignore the journal.
  await to.flush()
  await (to as StoreInternals)[COMPLETE_SNAPSHOT]?.call(to)
  if (signal?.aborted) {
    throw new MemoryError(
      'migration',
      `the migration was stopped after ${progress.conversations} of ${count(progress.totalConversations, 'conversation')} (${progress.messages} of ${count(progress.totalMessages, 'message')}); what was copied is in the destination. Run it again with replace: true (--replace on the command line) to copy every conversation.`,
      {
        details: {
          copied: progress.conversations,
          totalConversations: progress.totalConversations,
          messages: progress.messages,
          totalMessages: progress.totalMessages,
        },
      },
    )
  }

  const mismatches: Array<{ id: string; expected: number; found: number }> = []
  const found = new Map<string, number>()
  for await (const summary of to.conversations()) found.set(summary.id, summary.messages)
  for (const [id, count] of expected) {
    const there = found.get(id) ?? 0
    if (there !== count) mismatches.push({ id, expected: count, found: there })
  }
  if (mismatches.length > 0) {
    const first = mismatches[0] as { id: string; expected: number; found: number }
    throw new MemoryError(
      'migration',
      `the count check failed for ${count(mismatches.length, 'conversation')}: ${show(first.id)} has ${count(first.found, 'message')} in the destination, ${first.expected} in the source. Check the destination's maxMessages and that nothing else writes to it.`,
      { details: { mismatches } },
    )
  }
  return { conversations: progress.conversations, messages: progress.messages, emptyConversations }
}

/**
 * Checks every conversation id, then reads every message to copy and asks the destination whether
 * it would take it as it is (a message too large for its maxMessageBytes, an `id` that is not a
 * message id), so that such a conversation or message stops the migration before anything is
 * written, named by conversation (and index).
 */
async function assertCopyable(
  source: ReadonlyArray<{ id: string; messages: number }>,
  from: Memory,
  to: Memory,
  signal: AbortSignal | undefined,
): Promise<void> {
  // An id no store takes (empty, or cut in the middle of a character) can only come from a file
  // another program wrote: neither store can read or write that conversation.
  for (const { id } of source) {
    try {
      conversationKey(id)
    } catch (error) {
      throw new MemoryError(
        'migration',
        `conversation ${show(id)} of the source cannot be copied: ${(error as Error).message}. Nothing was copied. Rename or remove that conversation in the source (written there by another program), then run the migration again.`,
        { cause: error, details: { conversation: id, problem: (error as Error).message } },
      )
    }
  }
  const problemOf = (to as StoreInternals)[COPY_PROBLEM]?.bind(to)
  if (problemOf === undefined) return
  for (const { id } of source) {
    // Stopped: the copy loop, which checks too, then copies nothing.
    if (signal?.aborted) return
    const messages = await from.history(id)
    for (let index = 0; index < messages.length; index++) {
      const problem = problemOf(messages[index] as Message)
      if (problem === undefined) continue
      const { reason, bytes } = problem
      // Too large only for this destination: a larger maxMessageBytes copies it as it is.
      const remedy =
        bytes === undefined
          ? 'Correct or remove that message in the source'
          : `Open the destination with maxMessageBytes: ${bytes} or more (--max-message-bytes on the command line), or shorten or remove that message in the source`
      throw new MemoryError(
        'migration',
        `message ${index} of conversation ${show(id)} in the source cannot be copied: ${reason}. Nothing was copied. ${remedy}, then run the migration again.`,
        { details: { conversation: id, index, problem: reason, ...(bytes === undefined ? {} : { bytes }) } },
      )
    }
  }
}

/**
 * Refuses a migration that would drop messages: a conversation longer than a store keeps would be
 * cut, silently, by reading it from the source or writing it to the destination.
 */
function assertKept(
  source: ReadonlyArray<{ id: string; messages: number }>,
  store: Memory,
  role: 'source' | 'destination',
): void {
  const kept = (store as StoreInternals)[KEPT_PER_CONVERSATION]
  if (kept !== undefined) refuseLonger(source, kept, role)
}

/**
 * Refuses, before anything is copied, a conversation of `source` longer than `kept` messages
 * (what the `role` store keeps, or the CLI's `--max-messages`), naming it and the value to give.
 */
export function refuseLonger(
  source: ReadonlyArray<{ id: string; messages: number }>,
  kept: number,
  role: 'source' | 'destination',
): void {
  const longest = source.reduce<{ id: string; messages: number } | undefined>(
    (a, b) => (a === undefined || b.messages > a.messages ? b : a),
    undefined,
  )
  if (longest === undefined || longest.messages <= kept) return
  const over = source.filter((s) => s.messages > kept).length
  throw new MemoryError(
    'migration',
    `the conversation ${show(longest.id)} holds ${longest.messages} messages, more than the ${role} keeps (maxMessages: ${kept})` +
      `${over > 1 ? `, as do ${over - 1} other conversations` : ''}. Nothing was copied. Open the ${role} with maxMessages: ${longest.messages} ` +
      `or more${role === 'destination' ? ' (--max-messages on the command line)' : ''} to keep every message.`,
    { details: { conversation: longest.id, messages: longest.messages, maxMessages: kept, role } },
  )
}
