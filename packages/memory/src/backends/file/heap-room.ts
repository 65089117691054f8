import { getHeapStatistics } from 'node:v8'
import { MemoryError } from '../../errors.js'
import { readPieceBytes } from './read-snapshot.js'

/**
 * Heap bytes one byte of snapshot or journal may take while it is loaded. Measured once loaded:
 * 0.8 to 1.4 for the Python bot's `indent=2` files, up to 1.8 where every text holds a character
 * beyond Latin-1 (V8 then keeps it at two bytes a character), 1.4 to 1.7 for compact JSON of
 * short messages; the rest is room for the garbage collector, which cannot work near the limit.
 * Overestimating only refuses files close to the limit; underestimating would let V8 end the
 * process.
 */
export const HEAP_BYTES_PER_FILE_BYTE = 2.5

// heap_size_limit also counts the young generation, where nothing stays: up to 3 × 16 MiB on
// Node 20 and 3 × 64 MiB on Node 24. A loaded store lives in the old generation, so the check
// leaves the largest of these out (a few percent of a default heap).
const YOUNG_GENERATION_BYTES = 3 * 64 * 2 ** 20

/** The start of the advice to move to SQLite, so that the migrate command can leave it out. */
export const SQLITE_ADVICE = 'The SQLite backend opens at once at any size'

/** A path as typed in a shell: quoted when it holds anything but plain characters. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`
}

/**
 * The command that moves the JSON store at `path` to a SQLite database beside it, with the same
 * name ending in `.db`, as named by the size errors and warnings.
 */
export function migrateCommand(path: string): string {
  const db = /\.[^./\\]*$/.test(path) ? path.replace(/\.[^./\\]*$/, '.db') : `${path}.db`
  return `npx @taurobot/memory migrate ${shellWord(path)} ${shellWord(db)}`
}

/**
 * Throws a `MemoryError` (`too-large`) when loading `bytes` of snapshot and journal would not fit
 * in what is left of this thread's heap. V8 cannot report an out-of-memory error: it ends the
 * process, so the check comes before anything is read.
 */
export function assertHeapRoom(path: string, bytes: number): void {
  const { heap_size_limit: heapLimit, used_heap_size: used } = getHeapStatistics()
  const limit = Math.max(0, heapLimit - YOUNG_GENERATION_BYTES)
  // The read buffers (two pieces) count against the heap limit too.
  const needed = bytes * HEAP_BYTES_PER_FILE_BYTE + 2 * readPieceBytes(bytes)
  if (needed <= limit - used) return
  const mb = (n: number) => Math.ceil(n / 2 ** 20)
  throw new MemoryError(
    'too-large',
    `${JSON.stringify(path)} holds ${mb(bytes)} MiB of conversations, which need about ${mb(needed)} MiB of heap; ` +
      `this process has ${mb(limit - used)} MiB left of ${mb(limit)} MiB. Nothing was loaded. ` +
      `Give Node more heap (node --max-old-space-size=${mb(used + needed) + 256} …), or move the store to the ` +
      `SQLite backend, which keeps it on disk: ${migrateCommand(path)}`,
    { details: { file: path, bytes, heapNeeded: needed, heapLimit: limit, heapUsed: used } },
  )
}
