import { constants, fdatasync, write } from 'node:fs'
import { type FileHandle, open, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { errorCode } from '../../io-error.js'
import { type Message, messageProblem } from '../../message.js'
import { writeAtomicChunks } from './atomic-write.js'
import { syncDirectory } from './fs-utils.js'

/**
 * One line of the journal. `s` is a sequence number that grows by one per record across the
 * life of the store; the snapshot records the last one it contains, so replaying a journal that
 * was not yet restarted after a compaction skips what the snapshot already has.
 */
export interface JournalRecord {
  /** Sequence number. */
  s: number
  /** Appended messages: `[conversation, messages]` pairs. */
  a?: Array<[string, Message[]]>
  /** Cleared conversations. */
  c?: string[]
}

/** What was read from a journal file at open. */
export interface JournalContents {
  records: JournalRecord[]
  /** Byte length of the valid records; anything after it is a torn final record. */
  validBytes: number
  /** Bytes of the torn final record that was dropped, 0 if none. */
  tornBytes: number
}

/** A journal line that is not a record, found before the last valid one. */
export class JournalCorruptError extends Error {
  constructor(
    readonly line: number,
    readonly offset: number,
    reason: string,
  ) {
    super(`record ${line} at byte ${offset} is corrupt (${reason})`)
  }
}

function checkRecord(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object'
  const record = value as Partial<JournalRecord>
  if (typeof record.s !== 'number' || !Number.isSafeInteger(record.s) || record.s < 1)
    return 'no valid sequence number'
  if (record.a !== undefined) {
    if (!Array.isArray(record.a)) return '"a" is not an array'
    for (const pair of record.a) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !Array.isArray(pair[1]))
        return 'bad append entry'
      for (const message of pair[1]) {
        const problem = messageProblem(message)
        if (problem !== undefined) return `bad message: ${problem}`
      }
    }
  }
  if (record.c !== undefined && (!Array.isArray(record.c) || record.c.some((id) => typeof id !== 'string'))) {
    return '"c" is not a list of ids'
  }
  return undefined
}

/** Parses journal bytes: complete, valid lines are records; invalid data after the last valid record is a torn tail. */
export function parseJournal(data: Buffer): JournalContents {
  const records: JournalRecord[] = []
  let validBytes = 0
  let start = 0
  let line = 0
  let firstBad: { line: number; offset: number; reason: string } | undefined
  while (start < data.length) {
    const end = data.indexOf(0x0a, start)
    if (end === -1) break
    line++
    let reason: string | undefined
    let value: unknown
    try {
      value = JSON.parse(data.toString('utf8', start, end))
      reason = checkRecord(value)
    } catch (error) {
      reason = (error as Error).message
    }
    if (reason === undefined) {
      if (firstBad !== undefined)
        throw new JournalCorruptError(firstBad.line, firstBad.offset, firstBad.reason)
      records.push(value as JournalRecord)
      validBytes = end + 1
    } else if (firstBad === undefined) {
      firstBad = { line, offset: start, reason }
    }
    start = end + 1
  }
  return { records, validBytes, tornBytes: data.length - validBytes }
}

/**
 * How each journal append is made durable. `'dsync'`: the journal is opened with O_DSYNC, so a
 * write() returns only once its data and the file's new size are on stable storage, as if followed
 * by fdatasync() but in one system call and one thread-pool round trip instead of two.
 * `'fdatasync'`: a write() followed by fdatasync().
 */
export type JournalSync = 'dsync' | 'fdatasync'

// Typed as always present, but Node leaves it out where the OS has none.
const dsyncFlag: number | undefined = constants.O_DSYNC

/** O_DSYNC where the platform has it (Linux, macOS and the BSDs; not Windows). */
export const defaultJournalSync: JournalSync = dsyncFlag === undefined ? 'fdatasync' : 'dsync'

// O_RDWR | O_CREAT | O_APPEND is what the 'a+' flag stands for.
function appendFlags(sync: JournalSync): number | string {
  return sync === 'dsync' && dsyncFlag !== undefined
    ? constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | dsyncFlag
    : 'a+'
}

/** The append-only journal beside the snapshot: one line per batch, each made durable before it counts. */
export class Journal {
  private handle: FileHandle | undefined
  /** Bytes of durable, valid records. */
  size = 0
  private mustTruncate = false
  private readonly flags: number | string

  constructor(
    readonly path: string,
    private readonly sync: JournalSync = defaultJournalSync,
  ) {
    this.flags = appendFlags(sync)
  }

  /** Opens for appending, cutting the file to `validBytes` (dropping a torn tail). */
  async openForAppend(validBytes: number): Promise<void> {
    let created = false
    try {
      await stat(this.path)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
      created = true
    }
    this.handle = await open(this.path, this.flags)
    const { size } = await this.handle.stat()
    if (size !== validBytes) {
      await this.handle.truncate(validBytes)
      await this.handle.datasync()
    }
    this.size = validBytes
    if (created) await syncDirectory(dirname(this.path))
  }

  /** Appends one record durably; on failure the file is cut back so no part of it can be replayed. */
  async append(data: Buffer): Promise<void> {
    if (this.handle === undefined) this.handle = await open(this.path, this.flags)
    const handle = this.handle
    if (this.mustTruncate) {
      await handle.truncate(this.size)
      this.mustTruncate = false
    }
    try {
      // The callback forms on the descriptor: a FileHandle call allocates a promise request with its
      // own stats array and a result object, garbage that adds up to extra GC pauses at one append
      // per save. The handle stays open, and journal calls never overlap, so the descriptor is valid.
      let written = 0
      while (written < data.length) written += await writeAt(handle.fd, data, written)
      if (this.sync === 'fdatasync') await syncData(handle.fd)
    } catch (error) {
      try {
        await handle.truncate(this.size)
      } catch {
        this.mustTruncate = true
      }
      throw error
    }
    this.size += data.length
  }

  /** Reads the records appended after byte `offset`. */
  async readFrom(offset: number): Promise<Buffer> {
    if (this.handle === undefined) this.handle = await open(this.path, this.flags)
    const handle = this.handle
    const length = this.size - offset
    const buffer = Buffer.alloc(length)
    let read = 0
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, offset + read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    return buffer
  }

  /**
   * Restarts the journal with only `tail` in it, atomically: a crash leaves either the old journal
   * (whose older records the snapshot's sequence number makes replay skip) or the new one.
   */
  async replaceWith(tail: Buffer): Promise<void> {
    await writeAtomicChunks(this.path, tail.length > 0 ? [tail] : [])
    // From here on the old handle points at an unlinked file: it must never be written again.
    const old = this.handle
    this.handle = undefined
    this.size = tail.length
    this.mustTruncate = false
    await old?.close().catch(() => undefined)
    // If this open fails, the next append opens the file again.
    this.handle = await open(this.path, this.flags)
  }

  async close(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    await handle?.close()
  }
}

function writeAt(fd: number, data: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, data, offset, data.length - offset, null, (error, bytesWritten) => {
      if (error) reject(error)
      else resolve(bytesWritten)
    })
  })
}

function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, (error) => {
      if (error) reject(error)
      else resolve()
    })
  })
}
