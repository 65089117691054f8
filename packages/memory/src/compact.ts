import { existsSync } from 'node:fs'
import { fileBackend } from './backends/file/file-backend.js'
import { linkTarget } from './backends/file/store-path.js'
import { count } from './count.js'
import { MemoryError } from './errors.js'
import { openMemory } from './store.js'

/**
 * `taurobot-memory compact <file>`: opens the file store and closes it with
 * `compactOnClose: 'always'`, so the snapshot holds every message of the journal, complete for
 * readers of the snapshot alone such as the Python bot. Resolves with the line to print; `warn`
 * gets the store's warnings (a torn journal tail dropped, a file written by another program...),
 * which a person running the command should see, once the rewrite is done.
 */
export async function runCompact(path: string, warn?: (message: string) => void): Promise<string> {
  // Through a symbolic link, the journal is beside the link's target.
  const target = await linkTarget(path)
  if (!existsSync(target) && !existsSync(`${target}.journal`)) {
    throw new MemoryError(
      'io',
      `no conversations file at ${JSON.stringify(path)} (nor its journal). Check the path.`,
    )
  }
  const warnings: string[] = []
  const memory = await openMemory({
    backend: fileBackend({ path, compactOnClose: 'always', compactionWorker: false }),
    // Keep whatever the files hold: trimming is the running bot's choice, not this command's.
    maxMessages: Number.MAX_SAFE_INTEGER,
    flushOnExit: false,
    onWarning: (message) => warnings.push(message),
  })
  let conversations = 0
  let messages = 0
  try {
    const stats = await memory.stats()
    conversations = stats.conversations
    messages = stats.messages
  } finally {
    await memory.close()
  }
  // close() reports a failed rewrite as a warning (the journal keeps the data): here it is the
  // whole point of the command, so it fails.
  const failure = warnings.find((message) => message.includes('cannot write snapshot'))
  if (failure !== undefined) throw new MemoryError('io', failure.replace(/^\[@taurobot\/memory\] /, ''))
  for (const message of warnings) warn?.(message.replace(/^\[@taurobot\/memory\] /, ''))
  return `compacted ${path}: ${count(conversations, 'conversation')}, ${count(messages, 'message')}, all in the snapshot`
}
