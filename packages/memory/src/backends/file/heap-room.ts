import { getHeapStatistics } from 'node:v8'
import { MemoryError } from '../../errors.js'

/**
 * Heap bytes one byte of snapshot or journal takes once loaded, rounded up from measurements on
 * Python-format files (about 1.4 with `indent=2`, more for compact JSON of short ASCII messages,
 * whose bytes are nearly all objects). Overestimating only refuses files close to the limit.
 */
export const HEAP_BYTES_PER_FILE_BYTE = 2

/** The migrate command named by the size errors and warnings. */
export const MIGRATE_COMMAND = 'taurobot-memory migrate memory/conversations.json memory/conversations.db'

/**
 * Throws a `MemoryError` (`too-large`) when loading `bytes` of snapshot and journal would not fit
 * in what is left of this thread's heap. V8 cannot report an out-of-memory error: it ends the
 * process, so the check comes before anything is read.
 */
export function assertHeapRoom(path: string, bytes: number): void {
  const { heap_size_limit: limit, used_heap_size: used } = getHeapStatistics()
  const needed = bytes * HEAP_BYTES_PER_FILE_BYTE
  if (needed <= limit - used) return
  const mb = (n: number) => Math.ceil(n / 2 ** 20)
  throw new MemoryError(
    'too-large',
    `${JSON.stringify(path)} holds ${mb(bytes)} MB of conversations, which need about ${mb(needed)} MB of heap; ` +
      `this process has ${mb(limit - used)} MB left of ${mb(limit)} MB. Nothing was loaded. ` +
      `Give Node more heap (node --max-old-space-size=${mb(used + needed) + 512} …), or move the store to the ` +
      `SQLite backend, which keeps it on disk: ${MIGRATE_COMMAND}`,
    { details: { file: path, bytes, heapNeeded: needed, heapLimit: limit, heapUsed: used } },
  )
}
