import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { errorCode } from '../../io-error.js'
import type { Message } from '../../message.js'
import type { DeferredConversation } from './deferred-conversation.js'
import type { SnapshotData } from './legacy-format.js'
import { SnapshotParser } from './snapshot-parser.js'

// Large reads: few system calls, and the bytes held at once stay a small share of the store.
const PIECE_BYTES = 16 * 1024 * 1024
const MIN_PIECE_BYTES = 64 * 1024

/** The size of each read of a snapshot of `size` bytes: no larger than the file needs. */
export function readPieceBytes(size: number): number {
  return Math.min(PIECE_BYTES, Math.max(MIN_PIECE_BYTES, size + 1))
}

/** A snapshot read from disk, with its size in bytes. */
export interface SnapshotFile<List = Message[]> {
  data: SnapshotData<List>
  bytes: number
  /** Offset of the first byte that is not UTF-8 (read as U+FFFD), -1 if none. */
  invalidUtf8At: number
}

/**
 * Reads and checks a snapshot piece by piece (see {@link SnapshotParser}), its conversations kept
 * as bytes to be parsed when used; `undefined` if the file does not exist. `check` is called with
 * the file's size before anything is parsed and may throw (to refuse a file that cannot fit in the
 * heap). A file that is not a snapshot throws `SnapshotFormatError`; file-system errors are passed
 * through.
 */
export async function readSnapshot(
  path: string,
  check?: (bytes: number) => void,
): Promise<SnapshotFile<Message[] | DeferredConversation> | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const { size } = await handle.stat()
    check?.(size)
    const piece = readPieceBytes(size)
    const parser = new SnapshotParser({ defer: true })
    let bytes = 0
    for (;;) {
      // No more than what is left and a byte to see the end: the conversations kept as bytes hold
      // the buffers read into, and a last one as large as the others would be held mostly empty.
      const rest = bytes <= size ? size - bytes + 1 : piece
      const want = Math.min(piece, rest)
      const region = parser.writable(want, rest)
      const { bytesRead } = await handle.read(region, 0, want, bytes)
      if (bytesRead === 0) break
      bytes += bytesRead
      parser.commit(bytesRead)
    }
    return { data: parser.endDeferred(), bytes, invalidUtf8At: parser.invalidUtf8At }
  } finally {
    await handle.close()
  }
}

/** {@link readSnapshot}, blocking and parsing every conversation: for the compaction worker thread. */
export function readSnapshotSync(path: string, check?: (bytes: number) => void): SnapshotFile | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const { size } = fstatSync(fd)
    check?.(size)
    const piece = readPieceBytes(size)
    const parser = new SnapshotParser()
    let bytes = 0
    for (;;) {
      const region = parser.writable(piece)
      const bytesRead = readSync(fd, region, 0, piece, bytes)
      if (bytesRead === 0) break
      bytes += bytesRead
      parser.commit(bytesRead)
    }
    return { data: parser.end(), bytes, invalidUtf8At: parser.invalidUtf8At }
  } finally {
    closeSync(fd)
  }
}
