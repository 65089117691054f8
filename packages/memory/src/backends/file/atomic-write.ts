import { randomBytes } from 'node:crypto'
import { type FileHandle, link, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errorCode } from '../../io-error.js'
import { NEW_FILE_MODE, permissionsOf } from './file-mode.js'
import { syncDirectory, yieldToLoop } from './fs-utils.js'

/** Name prefix of our temporary files next to `path`, so a crash's leftovers can be found. */
function tempPrefix(path: string): string {
  return `${basename(path)}.tmp-`
}

/** A fresh temporary file name in the same directory (rename is only atomic within one file system). */
export function tempPath(path: string): string {
  return join(dirname(path), `${tempPrefix(path)}${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** Options of {@link writeAtomicChunks}. */
export interface WriteChunksOptions {
  /**
   * Background write: each turn produces about {@link SLICE_MS} of chunks, then leaves the event
   * loop idle for several times that long, so the write never holds more than a small share of the
   * main thread. Otherwise the loop only gets a turn between chunks (the fastest way to finish).
   * A function is asked before each slice, so a write can speed up once nothing competes with it.
   */
  paced?: boolean | (() => boolean)
  /**
   * Asked once the temp file is durable, just before the rename: `false` calls the write off (the
   * temp file is removed, {@link WriteCalledOffError} is thrown, `path` is untouched).
   */
  commit?: () => boolean
  /**
   * Awaited with the temp file's path once it is durable, just before the rename; throwing calls
   * the write off (the temp file is removed, `path` is untouched). The file backend keeps aside a
   * snapshot another program wrote here, and notes the identity of the file it renames.
   */
  beforeRename?: (temp: string) => Promise<void>
}

/** A write whose `commit` check said no: nothing was renamed. */
export class WriteCalledOffError extends Error {}

// A paced write keeps the main thread busy about 1 / (1 + IDLE_PER_BUSY) of the time (measured
// formatting time; promises, timers and GC add to it), in slices of about SLICE_MS, so a save that
// runs meanwhile shares the thread with one slice at most. 9.5 MB of snapshot take about 1 s.
const SLICE_MS = 0.1
const IDLE_PER_BUSY = 20

/**
 * Writes `chunks` to `path` atomically: temp file, fsync(temp), rename, fsync(directory). The
 * event loop gets a turn between chunks, so a large snapshot never blocks it. Resolves with the
 * bytes written. On failure the temp file is removed and `path` is untouched.
 */
export async function writeAtomicChunks(
  path: string,
  chunks: Iterable<string | Uint8Array>,
  options: WriteChunksOptions = {},
): Promise<number> {
  const temp = tempPath(path)
  let bytes = 0
  const mode = await permissionsOf(path)
  const handle = await open(temp, 'w', mode ?? NEW_FILE_MODE)
  try {
    try {
      // Again past the umask: the file replaced had exactly these bits.
      if (mode !== undefined) await handle.chmod(mode)
      const iterator = chunks[Symbol.iterator]()
      const paced = options.paced ?? false
      for (let done = false; !done; ) {
        const slow = typeof paced === 'function' ? paced() : paced
        const budget = slow ? SLICE_MS : 0
        // Producing the chunks is the main-thread cost; the write itself runs in the libuv pool.
        const started = performance.now()
        const buffers: Uint8Array[] = []
        let busy = 0
        do {
          const step = iterator.next()
          if (step.done === true) {
            done = true
            break
          }
          buffers.push(typeof step.value === 'string' ? Buffer.from(step.value) : step.value)
          busy = performance.now() - started
        } while (busy < budget)
        bytes += await writeAll(handle, buffers)
        // setImmediate keeps the loop spinning until the snapshot is written: fine at close, but in
        // the background a timer lets it go idle, so saves keep almost the whole thread.
        if (!done) await (slow ? pause(busy * IDLE_PER_BUSY) : yieldToLoop())
      }
      await handle.datasync()
    } finally {
      await handle.close()
    }
    if (options.commit !== undefined && !options.commit()) {
      throw new WriteCalledOffError(`the rewrite of ${JSON.stringify(path)} was called off`)
    }
    await options.beforeRename?.(temp)
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(path))
  return bytes
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[]): Promise<number> {
  let total = 0
  for (const buffer of buffers) total += buffer.length
  const { bytesWritten } = await handle.writev(buffers)
  if (bytesWritten === total) return total
  // A short write (rare on regular files): write what is left piece by piece.
  let skip = bytesWritten
  for (const buffer of buffers) {
    let written = Math.min(skip, buffer.length)
    skip -= written
    while (written < buffer.length) {
      const result = await handle.write(buffer, written, buffer.length - written)
      written += result.bytesWritten
    }
  }
  return total
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.round(ms))))
}

/**
 * Makes `to` a hard link to `from`'s current content, replacing any older `to` atomically: an
 * O(1) copy of a file that is only ever replaced by rename, never written in place (true of our
 * snapshots). Rejects with the link error (such as EPERM or ENOTSUP) where the file system has no
 * hard links, leaving `to` as it was.
 */
export async function linkAtomic(from: string, to: string): Promise<void> {
  const temp = tempPath(to)
  try {
    await link(from, temp)
    await rename(temp, to)
    // Where `to` already was a link to the same file, rename() succeeds and does nothing (POSIX):
    // the temporary name would stay, and keep that file on disk after `to` moves on.
    await unlink(temp).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error
    })
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(to))
}

const COPY_PIECE_BYTES = 4 * 1024 * 1024

/**
 * Makes `to` an independent, durable copy of `from`, replacing any older `to` atomically: temp
 * file, fdatasync, rename, fsync(directory). Copies in pieces and asks `keepGoing` before each;
 * `false` calls the copy off ({@link WriteCalledOffError}, `to` untouched, temp removed).
 * Resolves with the bytes copied.
 */
export async function copyAtomic(
  from: string,
  to: string,
  keepGoing: () => boolean = () => true,
): Promise<number> {
  const temp = tempPath(to)
  let bytes = 0
  try {
    const source = await open(from, 'r')
    try {
      const mode = (await source.stat()).mode & 0o7777
      const target = await open(temp, 'w', mode)
      try {
        await target.chmod(mode)
        const piece = Buffer.allocUnsafe(COPY_PIECE_BYTES)
        for (;;) {
          if (!keepGoing())
            throw new WriteCalledOffError(`the copy of ${JSON.stringify(from)} was called off`)
          const { bytesRead } = await source.read(piece, 0, piece.length, bytes)
          if (bytesRead === 0) break
          await writeAll(target, [piece.subarray(0, bytesRead)])
          bytes += bytesRead
        }
        await target.datasync()
      } finally {
        await target.close()
      }
    } finally {
      await source.close()
    }
    await rename(temp, to)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(to))
  return bytes
}

/** Reads a whole file, or `undefined` if it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** Removes temporary files a crashed process left next to `path` (ours and write-file-atomic's). */
export async function removeLeftovers(path: string, others: readonly string[]): Promise<void> {
  const dir = dirname(path)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return
  }
  const prefixes = [path, ...others].map((p) => tempPrefix(p))
  // write-file-atomic names its temp file "<target>.<number>".
  const atomicTemps = others.map((p) => new RegExp(`^${escapeRegExp(basename(p))}\\.\\d+$`))
  for (const name of names) {
    if (prefixes.some((prefix) => name.startsWith(prefix)) || atomicTemps.some((re) => re.test(name))) {
      await unlink(join(dir, name)).catch(() => undefined)
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
