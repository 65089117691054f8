// The worker thread that rewrites the snapshot of a file backend, so a store's main thread keeps
// serving while 10 MB of JSON are formatted. Its own build entry: the backend finds it next to
// itself through import.meta.url.
import { parentPort } from 'node:worker_threads'
import { type CompactionJob, CompactionMismatchError, compactFromDisk } from './backends/compaction.js'

/** A job's outcome, as posted back to the backend. */
export type CompactionReply =
  | { id: number; bytes: number }
  | { id: number; error: { message: string; code?: string; mismatch: boolean } }

parentPort?.on('message', (request: { id: number; job: CompactionJob }) => {
  compactFromDisk(request.job).then(
    (bytes) => parentPort?.postMessage({ id: request.id, bytes } satisfies CompactionReply),
    (error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code
      parentPort?.postMessage({
        id: request.id,
        error: {
          message: error instanceof Error ? error.message : String(error),
          ...(typeof code === 'string' ? { code } : {}),
          // Anything but a file-system error (a file that does not parse, a journal that does not
          // reach the record) means the files are not what the backend holds: it writes from memory.
          mismatch: error instanceof CompactionMismatchError || typeof code !== 'string',
        },
      } satisfies CompactionReply)
    },
  )
})
