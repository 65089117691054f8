import { createFileBackend } from './backends/file/file-backend.js'
import { linkTarget } from './backends/file/store-path.js'
import type { OverLimit } from './backends/over-limit.js'
import { count } from './count.js'
import { isMemoryError, MemoryError } from './errors.js'
import { openMemory } from './store.js'
import { COMPLETE_SNAPSHOT, type StoreInternals } from './store-internals.js'

/**
 * `taurobot-memory compact <file> [--max-messages <n>]`: opens the file store and rewrites its
 * snapshot so that it holds every message of the journal (each conversation's newest `maxMessages`), complete for readers of the snapshot alone such as the
 * Python bot; rejects, with the files left as they were, when that rewrite fails. The command has
 * checked that `path` holds a store (opening a missing one would create it). Resolves with the line to print; `warn`
 * gets the store's warnings (a torn journal tail dropped, a file written by another program...),
 * which a person running the command should see, once the rewrite is done.
 */
export async function runCompact(
  path: string,
  warn?: (message: string) => void,
  maxMessages: number = Number.MAX_SAFE_INTEGER,
): Promise<string> {
  const warnings: string[] = []
  let overLimit: OverLimit | undefined
  const memory = await openMemory({
    // Conversations longer than maxMessages: the store would warn that the file drops their oldest
    // messages at its next write, but this command is that write; it says what it dropped once done.
    backend: createFileBackend({ path, compactOnClose: 'always', compactionWorker: false }, (found) => {
      overLimit = found
    }),
    // By default whatever the files hold: trimming is the running bot's choice, which
    // --max-messages states, so the snapshot holds what that bot's history() showed.
    maxMessages,
    flushOnExit: false,
    onWarning: (message) => warnings.push(message),
    // What open recovered from damaged files is said as a warning of the command, not as a
    // process warning of Node's.
    onRecovered: (info) => warnings.push(info.message),
  })
  let conversations = 0
  let messages = 0
  try {
    const stats = await memory.stats()
    conversations = stats.conversations
    messages = stats.messages
    // Not left to close(), which reports a failed rewrite as a warning (the journal keeps the
    // data): here the rewrite is the whole point of the command, so its failure is the result.
    await (memory as StoreInternals)[COMPLETE_SNAPSHOT]?.call(memory)
  } catch (error) {
    // No second attempt at close(): the files stay exactly as the failure left them.
    await memory.destroy()
    for (const message of warnings) warn?.(unprefixed(message))
    throw notRewritten(path, error)
  }
  await memory.close()
  if (overLimit !== undefined)
    warnings.push(droppedOldest(path, await linkTarget(path), maxMessages, overLimit))
  for (const message of warnings) warn?.(unprefixed(message))
  return `compacted ${path}: ${count(conversations, 'conversation')}, ${count(messages, 'message')}, all in the snapshot`
}

/** What `--max-messages` dropped from the file, and where the snapshot as it was is kept. */
function droppedOldest(path: string, target: string, maxMessages: number, found: OverLimit): string {
  return (
    `${JSON.stringify(path)}: ${count(found.conversations, 'conversation')} held more messages than --max-messages ${maxMessages}, ` +
    `the longest ${JSON.stringify(found.longestId)} with ${found.longest}. compact kept the newest ${maxMessages} of each and dropped the older ones from the file; ` +
    `the snapshot as it was is kept in ${JSON.stringify(`${target}.bak`)}. Without --max-messages, compact keeps every message.`
  )
}

function unprefixed(message: string): string {
  return message.replace(/^\[@taurobot\/memory\] /, '')
}

/** Says that the snapshot was left as it was, why, and that nothing is lost. */
function notRewritten(path: string, error: unknown): MemoryError {
  const reason = unprefixed(error instanceof Error ? error.message : String(error))
  return new MemoryError(
    isMemoryError(error) ? error.code : 'io',
    `the snapshot ${JSON.stringify(path)} was NOT rewritten: ${reason} ` +
      'No message is lost: the snapshot and its journal are left as they were, and the next open replays the journal. Fix the cause and run the command again.',
    { cause: error, details: { file: path } },
  )
}
