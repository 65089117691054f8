import { randomBytes } from 'node:crypto'
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { errorCode, syncDirectory, yieldToLoop } from '../fs-utils.js'

/** Name prefix of our temporary files next to `path`, so a crash's leftovers can be found. */
function tempPrefix(path: string): string {
  return `${basename(path)}.tmp-`
}

/** A fresh temporary file name in the same directory (rename is only atomic within one file system). */
export function tempPath(path: string): string {
  return join(dirname(path), `${tempPrefix(path)}${process.pid}-${randomBytes(4).toString('hex')}`)
}

/**
 * Writes `chunks` to `path` atomically: temp file, fsync(temp), rename, fsync(directory). The
 * event loop gets a turn between chunks, so a large snapshot never blocks it. Resolves with the
 * bytes written. On failure the temp file is removed and `path` is untouched.
 */
export async function writeAtomicChunks(path: string, chunks: Iterable<string>): Promise<number> {
  const temp = tempPath(path)
  let bytes = 0
  const handle = await open(temp, 'w', 0o644)
  try {
    try {
      for (const chunk of chunks) {
        const buffer = Buffer.from(chunk)
        await handle.write(buffer, 0, buffer.length)
        bytes += buffer.length
        await yieldToLoop()
      }
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(path))
  return bytes
}

/**
 * Copies `data` to `path` with write-file-atomic (temp write, fsync, rename), then fsyncs the
 * directory, which write-file-atomic leaves out, so the rename survives a power loss.
 */
export async function writeAtomicBuffer(path: string, data: Buffer): Promise<void> {
  await writeFileAtomic(path, data, { fsync: true })
  await syncDirectory(dirname(path))
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
