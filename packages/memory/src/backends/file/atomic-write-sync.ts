// Blocking file I/O for the compaction worker thread. Blocking is that thread's job: its writes then
// never go through the libuv pool, whose few threads the main thread's journal appends share, and
// they wake no other thread. The main thread never calls these.
import {
  closeSync,
  fchmodSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writevSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { errorCode } from '../../io-error.js'
import { tempPath, WriteCalledOffError } from './atomic-write.js'
import { NEW_FILE_MODE, permissionsOfSync } from './file-mode.js'

// Pieces gathered into one writev(): few system calls, and the text held at once stays small.
const WRITE_BYTES = 1 << 20
// Below IOV_MAX (1024 on Linux), so one writev() takes them all.
const MAX_PIECES = 512

/** Reads a whole file, or `undefined` if it does not exist. */
export function readIfExistsSync(path: string): Buffer | undefined {
  try {
    return readFileSync(path)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** Reads the first `length` bytes of `path`; `undefined` if the file is shorter. */
export function readPrefixSync(path: string, length: number): Buffer | undefined {
  const buffer = Buffer.alloc(length)
  if (length === 0) return buffer
  const fd = openSync(path, 'r')
  try {
    let read = 0
    while (read < length) {
      const bytesRead = readSync(fd, buffer, read, length - read, read)
      if (bytesRead === 0) return undefined
      read += bytesRead
    }
  } finally {
    closeSync(fd)
  }
  return buffer
}

/**
 * Writes `chunks` to `path` atomically, as `writeAtomicChunks` does: temp file, fdatasync(temp),
 * rename, fsync(directory). `commit`, asked with the temp file's path once it is durable, can call
 * the write off ({@link WriteCalledOffError}, `path` untouched). On failure the temp file is removed. Returns the
 * bytes written.
 */
export function writeAtomicChunksSync(
  path: string,
  chunks: Iterable<string>,
  commit?: (temp: string) => boolean,
): number {
  const temp = tempPath(path)
  let bytes = 0
  const mode = permissionsOfSync(path)
  const fd = openSync(temp, 'w', mode ?? NEW_FILE_MODE)
  try {
    try {
      // Again past the umask: the file replaced had exactly these bits.
      if (mode !== undefined) fchmodSync(fd, mode)
      let buffers: Buffer[] = []
      let pending = 0
      for (const chunk of chunks) {
        const buffer = Buffer.from(chunk)
        buffers.push(buffer)
        pending += buffer.length
        if (pending >= WRITE_BYTES || buffers.length >= MAX_PIECES) {
          bytes += writeAllSync(fd, buffers, pending)
          buffers = []
          pending = 0
        }
      }
      if (pending > 0) bytes += writeAllSync(fd, buffers, pending)
      fdatasyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (commit !== undefined && !commit(temp)) {
      throw new WriteCalledOffError(`the rewrite of ${JSON.stringify(path)} was called off`)
    }
    renameSync(temp, path)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {
      // Already renamed or never created: nothing to clean up.
    }
    throw error
  }
  syncDirectorySync(dirname(path))
  return bytes
}

function writeAllSync(fd: number, buffers: Buffer[], total: number): number {
  let written = writevSync(fd, buffers)
  if (written === total) return total
  // A short write (rare on regular files): write what is left piece by piece.
  for (const buffer of buffers) {
    if (written >= buffer.length) {
      written -= buffer.length
      continue
    }
    let offset = written
    written = 0
    while (offset < buffer.length) offset += writevSync(fd, [buffer.subarray(offset)])
  }
  return total
}

/** `syncDirectory`, blocking: makes the rename in `dir` survive a power loss. */
function syncDirectorySync(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch (error) {
    // As in syncDirectory: some platforms and file systems refuse fsync on a directory.
    const code = errorCode(error)
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'ENOTSUP') throw error
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd)
      } catch {
        // Closing a read-only directory descriptor cannot lose data.
      }
    }
  }
}
