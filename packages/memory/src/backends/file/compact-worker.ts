// The worker thread that rewrites the snapshot of a file backend, so a store's main thread keeps
// serving while 10 MB of JSON are formatted. Its own build entry: the backend finds it next to
// itself through import.meta.url.
import { parentPort } from 'node:worker_threads'
import { lowerThreadPriority } from '../../thread-priority.js'
import { WriteCalledOffError } from './atomic-write.js'
import {
  type CompactionJob,
  CompactionMismatchError,
  compactFromDisk,
  ForeignSnapshotError,
} from './compaction.js'
import type { SnapshotIdentity } from './snapshot-identity.js'

/** A job's outcome, as posted back to the backend. */
export type CompactionReply =
  | { id: number; bytes: number; identity: SnapshotIdentity | undefined }
  | {
      id: number
      error: { message: string; code?: string; mismatch: boolean; foreign: boolean; calledOff: boolean }
    }

// The compaction gives the CPU to the bot's main thread whenever both want it. The backend never
// waits long for a starved compaction: close() calls it off and writes the snapshot itself.
lowerThreadPriority()

parentPort?.on('message', (request: { id: number; job: CompactionJob }) => {
  let reply: CompactionReply
  try {
    let identity: SnapshotIdentity | undefined
    const bytes = compactFromDisk(request.job, (renamed) => {
      identity = renamed
    })
    reply = { id: request.id, bytes, identity }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    const calledOff = error instanceof WriteCalledOffError
    reply = {
      id: request.id,
      error: {
        message: error instanceof Error ? error.message : String(error),
        ...(typeof code === 'string' ? { code } : {}),
        // Anything but a file-system error (a file that does not parse, a journal that does not
        // reach the record) means the files are not what the backend holds: it writes from memory.
        mismatch: !calledOff && (error instanceof CompactionMismatchError || typeof code !== 'string'),
        foreign: error instanceof ForeignSnapshotError,
        calledOff,
      },
    }
  }
  parentPort?.postMessage(reply)
})
