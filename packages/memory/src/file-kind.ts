import { type FileHandle, open } from 'node:fs/promises'
import { errorCode } from './io-error.js'

/**
 * What a path holds, judged from its first bytes: a directory, a SQLite database (its 16-byte
 * header), text that starts like a JSON object, anything else, or nothing.
 */
export type FileKind = 'directory' | 'sqlite' | 'json' | 'other' | 'missing'

// Every SQLite database file starts with these bytes (https://www.sqlite.org/fileformat.html).
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')
// Enough to see past the whitespace an editor or another program may put before the JSON.
const HEAD_BYTES = 512

/**
 * Reads what is at `path`, for an error message once a backend could not open it: a renamed file
 * of the other backend deserves a message that says so. Never throws; reads at most
 * {@link HEAD_BYTES} bytes and writes nothing.
 */
export async function fileKind(path: string): Promise<FileKind> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = errorCode(error)
    return code === 'ENOENT' ? 'missing' : code === 'EISDIR' ? 'directory' : 'other'
  }
  try {
    // Linux opens a directory for reading; only reading it fails.
    if ((await handle.stat()).isDirectory()) return 'directory'
    const head = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0)
    return headKind(head.subarray(0, bytesRead))
  } catch (error) {
    return errorCode(error) === 'EISDIR' ? 'directory' : 'other'
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/** The kind of a file that starts with `head`. */
export function headKind(head: Buffer): 'sqlite' | 'json' | 'other' {
  if (head.length >= SQLITE_HEADER.length && head.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    return 'sqlite'
  }
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++
  return head[i] === 0x7b ? 'json' : 'other'
}
