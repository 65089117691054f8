import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { errorCode } from '../../io-error.js'
import type { Message } from '../../message.js'
import type { DeferredConversation } from './deferred-conversation.js'
import { type SnapshotData, SnapshotFormatError, type TextPlace } from './legacy-format.js'
import { identityOf } from './snapshot-identity.js'
import { SnapshotParser } from './snapshot-parser.js'

// Large reads: few system calls, and the bytes held at once stay a small share of the store.
const PIECE_BYTES = 16 * 1024 * 1024
const MIN_PIECE_BYTES = 64 * 1024

/** The size of each read of a snapshot of `size` bytes: no larger than the file needs. */
export function readPieceBytes(size: number, piece = PIECE_BYTES): number {
  return Math.min(piece, Math.max(MIN_PIECE_BYTES, size + 1))
}

/**
 * The room left before the bytes of a piece, where the parser moves the unread tail of the piece
 * before (see {@link SnapshotParser.take}): a quarter more than the longest tail so far, from 1/64
 * to 1/4 of a piece. It is held as long as the piece, but never written where the tail is
 * shorter, so those pages take no memory; a longer tail costs a copy of the piece, and the piece
 * read stays in memory until the garbage collector frees it.
 */
export function readReserveBytes(piece: number, longestTail: number): number {
  return Math.min(piece >>> 2, Math.max(piece >>> 6, Math.ceil(longestTail * 1.25)))
}

/** A snapshot read from disk, with its size in bytes. */
export interface SnapshotFile<List = Message[]> {
  data: SnapshotData<List>
  bytes: number
  /** Offset of the first byte that is not UTF-8 (read as U+FFFD), -1 if none. */
  invalidUtf8At: number
  /** The file's identity as it was opened, to notice another program's write later. */
  identity: string
}

/**
 * Reads and checks a snapshot piece by piece (see {@link SnapshotParser}), its conversations kept
 * as bytes to be parsed when used; `undefined` if the file does not exist. `check` is called with
 * the file's size before anything is parsed and may throw (to refuse a file that cannot fit in the
 * heap). A file that is not a snapshot throws `SnapshotFormatError`; file-system errors are passed
 * through. Each piece is read while the one before is checked. `pieceBytes` is the size of a read,
 * smaller in tests to read small files in many pieces.
 */
export async function readSnapshot(
  path: string,
  check?: (bytes: number) => void,
  options: { pieceBytes?: number } = {},
): Promise<SnapshotFile<Message[] | DeferredConversation> | undefined> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const stats = await handle.stat()
    const size = stats.size
    check?.(size)
    const piece = readPieceBytes(size, options.pieceBytes)
    const parser = new SnapshotParser({ defer: true })
    // No more than what is left and a byte to see the end: the conversations kept as bytes hold
    // the buffers read into, and a last one as large as the others would be held mostly empty.
    const wanted = (at: number) => Math.min(piece, at <= size ? size - at + 1 : piece)
    let bytes = 0
    let next: Promise<Piece> | undefined = readPiece(handle, 0, wanted(0), 0)
    try {
      for (;;) {
        const read: Piece = await next
        next = undefined
        if (read.bytesRead === 0) break
        bytes += read.bytesRead
        // The next piece is read on the thread pool while this one is checked: at most two pieces
        // in flight, and no room to reserve before what should be the end of the file.
        const reserve = bytes === size ? 0 : readReserveBytes(piece, parser.longestTailBytes)
        next = readPiece(handle, bytes, wanted(bytes), reserve)
        parser.take(read.buffer, read.at, read.bytesRead, bytes <= size ? size - bytes : piece)
      }
    } finally {
      // A damaged piece throws while the next one is read: that read's own failure is not news.
      await next?.catch(() => undefined)
    }
    return {
      data: parser.endDeferred(),
      bytes,
      invalidUtf8At: parser.invalidUtf8At,
      identity: identityOf(stats),
    }
  } catch (error) {
    // The parser knows the offending byte's offset, not its line: counted here, only for a refusal.
    if (!(error instanceof SnapshotFormatError) || error.at === undefined) throw error
    throw new SnapshotFormatError(error.reason, error.at, await placeOf(handle, error.at))
  } finally {
    await handle.close()
  }
}

/**
 * The line and column (in characters, each counted from 1) of byte `at` of the file, read again
 * up to there: a refused file is rare, and counting lines as it is parsed would cost every open.
 */
async function placeOf(handle: FileHandle, at: number): Promise<TextPlace> {
  const buffer = Buffer.allocUnsafe(readPieceBytes(at))
  let line = 1
  let characters = 0
  for (let position = 0; position < at; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, at - position), position)
    if (bytesRead === 0) break
    const chunk = buffer.subarray(0, bytesRead)
    let from = 0
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, from)) {
      line++
      characters = 0
      from = newline + 1
    }
    // UTF-8 continuation bytes are not characters of their own.
    for (let k = from; k < bytesRead; k++) if (((chunk[k] as number) & 0xc0) !== 0x80) characters++
    position += bytesRead
  }
  return { line, column: characters + 1 }
}

/** The bytes of one read, at `at` in `buffer`, after room for what is kept from the piece before. */
interface Piece {
  buffer: Buffer
  at: number
  bytesRead: number
}

async function readPiece(
  handle: FileHandle,
  position: number,
  length: number,
  reserve: number,
): Promise<Piece> {
  const buffer = Buffer.allocUnsafe(reserve + length)
  const { bytesRead } = await handle.read(buffer, reserve, length, position)
  return { buffer, at: reserve, bytesRead }
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
    const stats = fstatSync(fd)
    const size = stats.size
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
    return { data: parser.end(), bytes, invalidUtf8At: parser.invalidUtf8At, identity: identityOf(stats) }
  } finally {
    closeSync(fd)
  }
}
