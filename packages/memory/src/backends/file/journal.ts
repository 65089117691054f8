import { constants, fdatasync, ftruncate, write } from 'node:fs'
import { type FileHandle, open, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Operation } from '../../backend.js'
import { errorCode } from '../../io-error.js'
import { type Message, messageProblem } from '../../message.js'
import { writeAtomicChunks } from './atomic-write.js'
import { crc32c } from './checksum.js'
import { NEW_FILE_MODE } from './file-mode.js'
import { syncDirectory } from './fs-utils.js'
import { MAX_SEQ } from './legacy-format.js'
import { firstInvalidUtf8 } from './utf8.js'

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
  /**
   * Conversations changed by upserts or removes: `[conversation, operations]` pairs, each
   * operation in order (a conversation is in `a` or here, never both, within one record).
   */
  o?: Array<[string, Operation[]]>
  /**
   * Text appended to messages by id (the parts of streamed replies), in order:
   * `[conversation, message id, text]`, with a fourth element `1` when the part ends the reply (its
   * `unfinished` field is deleted). Its own field so that a part costs its text and two ids, not a
   * whole operation object; a conversation here is in neither `a` nor `o` within one record.
   */
  x?: ExtendEntry[]
}

/** One part of a streamed reply in a journal record (see {@link JournalRecord.x}). */
export type ExtendEntry = [conversation: string, id: string, text: string] | [string, string, string, 1]

/** An operation that appends text to a message. */
export type ExtendOperation = Extract<Operation, { op: 'extend' }>

export function isExtend(operation: Operation): operation is ExtendOperation {
  return operation.op === 'extend'
}

/** The journal form of an extend operation of `conversation`. */
export function extendEntry(conversation: string, operation: ExtendOperation): ExtendEntry {
  return operation.finish === true
    ? [conversation, operation.id, operation.text, 1]
    : [conversation, operation.id, operation.text]
}

/** A complete journal line that is not a valid record: damage on disk, never an interrupted write. */
export interface JournalDamage {
  /** 1-based line number. */
  line: number
  /** Byte offset of the line. */
  offset: number
  reason: string
}

/** What was read from a journal file at open. */
export interface JournalContents {
  /** The valid records, in file order. */
  records: JournalRecord[]
  /** Complete lines that are not valid records, in file order. */
  damaged: JournalDamage[]
  /** Bytes up to the end of the last complete line; what follows is a torn final write. */
  completeBytes: number
  /** Bytes of the unterminated final segment (a torn write), 0 if none. */
  tornBytes: number
  /** True when the torn write is a complete last line with sectors never written (see parseJournal). */
  tornUnwritten: boolean
  /**
   * Zero bytes after the last record: space the journal had prepared for records to come (see
   * {@link Journal}), not data. A crash leaves it behind; a clean close cuts it off.
   */
  paddingBytes: number
  /** Offset of the first byte that is not UTF-8 in a record without a checksum, -1 if none. */
  invalidUtf8At: number
}

// Every record written carries its CRC-32C as a last field, `,"crc":"<8 hex digits>"}`, covering
// the line's bytes before it. A field rather than a prefix: the line stays one JSON object, which
// the previous release reads too (it ignores unknown fields), and its records, without the field,
// still load here.
const CRC_FIELD = ',"crc":"'
const CRC_SUFFIX_BYTES = CRC_FIELD.length + 8 + 2
const HEX8 = /^[0-9a-f]{8}$/

const HEX_DIGITS = Buffer.from('0123456789abcdef')
// The checksum field with its digits still to fill in, the record's closing brace and the newline.
const CRC_PLACEHOLDER = `${CRC_FIELD}00000000"}\n`

/** One record as a journal line: its JSON, checksum field last, and a newline. */
export function encodeRecord(record: JournalRecord): Buffer {
  const json = JSON.stringify(record)
  // The JSON is encoded straight into the line, all but its closing brace, whose place the field
  // takes: no second string of the whole record to build (a copy of it) just to add the field.
  const body = Buffer.byteLength(json) - 1
  const line = Buffer.allocUnsafe(body + CRC_PLACEHOLDER.length)
  line.write(json, 0, body, 'utf8')
  line.write(CRC_PLACEHOLDER, body, 'latin1')
  const crc = crc32c(line, 0, body)
  const digits = body + CRC_FIELD.length
  for (let i = 0; i < 8; i++) line[digits + i] = HEX_DIGITS[(crc >>> (28 - 4 * i)) & 0xf] as number
  return line
}

function checkRecord(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object'
  const record = value as Partial<JournalRecord>
  if (typeof record.s !== 'number' || !Number.isSafeInteger(record.s) || record.s < 1 || record.s > MAX_SEQ)
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
  if (record.o !== undefined) {
    if (!Array.isArray(record.o)) return '"o" is not an array'
    for (const pair of record.o) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !Array.isArray(pair[1]))
        return 'bad operations entry'
      for (const operation of pair[1]) {
        const problem = operationProblem(operation)
        if (problem !== undefined) return `bad operation: ${problem}`
      }
    }
  }
  if (record.x !== undefined) {
    if (!Array.isArray(record.x)) return '"x" is not an array'
    for (const entry of record.x) {
      if (
        !Array.isArray(entry) ||
        (entry.length !== 3 && !(entry.length === 4 && entry[3] === 1)) ||
        typeof entry[0] !== 'string' ||
        typeof entry[1] !== 'string' ||
        typeof entry[2] !== 'string'
      )
        return 'bad extend entry'
    }
  }
  return undefined
}

function operationProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object'
  const operation = value as Partial<Record<string, unknown>>
  // Only an upsert may be marked ifPresent (replace only), and only with true.
  if (operation.ifPresent !== undefined && (operation.op !== 'upsert' || operation.ifPresent !== true))
    return 'a bad ifPresent flag'
  if (operation.op === 'remove')
    return typeof operation.id === 'string' ? undefined : 'a remove without an id'
  if (operation.op === 'extend') {
    if (typeof operation.id !== 'string' || typeof operation.text !== 'string')
      return 'an extend without an id or text'
    return operation.finish === undefined || operation.finish === true ? undefined : 'a bad finish flag'
  }
  if (operation.op !== 'add' && operation.op !== 'upsert') return 'an unknown kind'
  const problem = messageProblem(operation.message)
  if (problem !== undefined) return problem
  if (operation.op === 'upsert' && typeof (operation.message as Message).id !== 'string')
    return 'an upsert without a message id'
  return undefined
}

/** Reads the complete line `data[start..end)`: the record, or why it is not one. */
function readLine(data: Buffer, start: number, end: number): { record: JournalRecord } | { reason: string } {
  const field = end - CRC_SUFFIX_BYTES
  let checked = false
  if (field > start && data.toString('latin1', field, field + CRC_FIELD.length) === CRC_FIELD) {
    const hex = data.toString('latin1', field + CRC_FIELD.length, end - 2)
    if (!HEX8.test(hex) || data[end - 2] !== 0x22 || data[end - 1] !== 0x7d)
      return { reason: 'its checksum field is damaged' }
    if (Number.parseInt(hex, 16) !== crc32c(data, start, field)) return { reason: 'checksum mismatch' }
    checked = true
  }
  let value: unknown
  try {
    value = JSON.parse(data.toString('utf8', start, end))
  } catch (error) {
    return { reason: (error as Error).message }
  }
  const reason = checkRecord(value)
  if (reason !== undefined) return { reason }
  // A record that has the field where it does not belong was changed after it was written.
  if (!checked && Object.hasOwn(value as object, 'crc')) return { reason: 'its checksum field is damaged' }
  return { record: value as JournalRecord }
}

/**
 * Parses journal bytes. Only an unterminated final segment is a torn write (an append cut short
 * before it was acknowledged); a complete line that fails its checksum or is not a valid record is
 * damage, reported in `damaged`, and the valid records around it are all returned.
 *
 * Zero bytes at the end are the journal's prepared space, not data: no record holds a raw zero
 * byte (JSON escapes it), so they end the data. An append into that space that a crash cut short
 * can leave the disk sector with its newline written and an earlier one still zero: a last line
 * whose zero bytes are all whole sectors (see {@link unwrittenSectors}) is that torn append, not
 * damage, since nothing after it was ever acknowledged.
 */
export function parseJournal(data: Buffer): JournalContents {
  const records: JournalRecord[] = []
  const damaged: JournalDamage[] = []
  let invalidUtf8At = -1
  let dataEnd = data.length
  while (dataEnd > 0 && data[dataEnd - 1] === 0) dataEnd--
  let start = 0
  let line = 0
  while (start < dataEnd) {
    const end = data.indexOf(0x0a, start)
    if (end === -1 || end >= dataEnd) break
    line++
    const result = readLine(data, start, end)
    if ('record' in result) {
      records.push(result.record)
      // A checksummed record was valid UTF-8 when written and still is; an older one may not be.
      if (invalidUtf8At < 0 && !Object.hasOwn(result.record, 'crc'))
        invalidUtf8At = firstInvalidUtf8(data, start, end)
    } else {
      damaged.push({ line, offset: start, reason: result.reason })
    }
    start = end + 1
  }
  let tornUnwritten = false
  const last = damaged.at(-1)
  if (
    last !== undefined &&
    last.line === line &&
    start === dataEnd &&
    unwrittenSectors(data, last.offset, start - 1)
  ) {
    damaged.pop()
    start = last.offset
    tornUnwritten = true
  }
  return {
    records,
    damaged,
    completeBytes: start,
    tornBytes: dataEnd - start,
    tornUnwritten,
    paddingBytes: data.length - dataEnd,
    invalidUtf8At,
  }
}

// The smallest unit a disk writes whole; 4 KiB sectors are whole 512-byte ones too.
const SECTOR_BYTES = 512

/**
 * Whether the line `data[start..end)` holds zero bytes and they are only what a write cut short
 * leaves: runs of whole sectors, the first of which may begin at the line's start. A damaged byte
 * elsewhere, a zero byte amid written data, is not.
 */
function unwrittenSectors(data: Buffer, start: number, end: number): boolean {
  let found = false
  let at = data.indexOf(0, start)
  while (at !== -1 && at < end) {
    let runEnd = at
    while (runEnd < end && data[runEnd] === 0) runEnd++
    if ((at !== start && at % SECTOR_BYTES !== 0) || runEnd % SECTOR_BYTES !== 0) return false
    found = true
    at = data.indexOf(0, runEnd)
  }
  return found
}

/** Where the sequence of `records` breaks: neighbours whose numbers do not go up by exactly one. */
export function sequenceBreaks(records: readonly JournalRecord[]): Array<{ after: number; next: number }> {
  const breaks: Array<{ after: number; next: number }> = []
  for (let i = 1; i < records.length; i++) {
    const after = (records[i - 1] as JournalRecord).s
    const next = (records[i] as JournalRecord).s
    if (next !== after + 1) breaks.push({ after, next })
  }
  return breaks
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

// Not O_APPEND: records are written at their offset, into space prepared ahead (see Journal).
function journalFlags(sync: JournalSync): number {
  const flags = constants.O_RDWR | constants.O_CREAT
  return sync === 'dsync' && dsyncFlag !== undefined ? flags | dsyncFlag : flags
}

// The first space prepared after open or a restart, and the most prepared at once: it doubles in
// between, so a small store's journal stays small and a busy one extends rarely.
const FIRST_PREPARED_BYTES = 64 * 1024
const MAX_PREPARED_BYTES = 1024 * 1024
let zeros: Buffer | undefined

/**
 * The append-only journal beside the snapshot: one line per batch, each made durable before it
 * counts.
 *
 * With `prepared` (a strict store's journal), records go into space prepared ahead: zero bytes
 * written and made durable beyond the last record, a chunk at a time. A durable append that grows
 * a file must also commit the file's new size and blocks to the filesystem's own journal; one that
 * overwrites blocks already there commits only its data, which the memory-strict bench measures
 * beside the plain append (1.2 to 1.75 times as many per second there, more for larger records).
 * The cost is the journal's bytes written twice. Readers take the zeros as the end of the data; a
 * clean close cuts them off.
 */
export class Journal {
  private handle: FileHandle | undefined
  /** Bytes of durable, valid records. */
  size = 0
  /** Length of the file: records, then prepared zero bytes. */
  private allocated = 0
  // Where the next preparation may start after one failed for want of room.
  private prepareFrom = 0
  // Zeros being written past the end beside the appends, and the size of the last chunk written.
  private preparing: Promise<void> | undefined
  private lastChunk = 0
  private mustTruncate = false
  private readonly flags: number
  // Created by openForAppend and never written since: what removeIfUnused() may remove.
  private unused = false

  constructor(
    readonly path: string,
    private readonly sync: JournalSync = defaultJournalSync,
    /** Whether to write into prepared space (see the class comment), or grow the file per record. */
    private readonly prepared = true,
  ) {
    this.flags = journalFlags(sync)
  }

  /**
   * Opens for appending, cutting the file to `validBytes` (dropping a torn tail). `snapshotMode`,
   * the snapshot's permission bits, are the journal's too (it holds the same conversations), with
   * the owner's read and write added, since the journal is opened again to append (a read-only
   * 0444 snapshot is only ever replaced by rename, which needs neither); set exactly, whatever the
   * umask, on a journal made here and on one that has other bits. Without a snapshot, a new
   * journal gets {@link NEW_FILE_MODE} less the umask.
   */
  async openForAppend(validBytes: number, snapshotMode?: number): Promise<void> {
    let created = false
    try {
      await stat(this.path)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
      created = true
    }
    const wanted = snapshotMode === undefined ? undefined : snapshotMode | 0o600
    this.handle = await open(this.path, this.flags, wanted ?? NEW_FILE_MODE)
    const { size, mode } = await this.handle.stat()
    if (wanted !== undefined && (mode & 0o7777) !== wanted) {
      // Best effort: a journal of another owner that this process may write (group-writable)
      // cannot be changed by it, and keeps its bits rather than failing the open.
      await this.handle.chmod(wanted).catch(() => undefined)
    }
    if (size !== validBytes) {
      await this.handle.truncate(validBytes)
      await this.handle.datasync()
    }
    this.size = validBytes
    this.allocated = validBytes
    this.prepareFrom = 0
    this.unused = created
    if (created) await syncDirectory(dirname(this.path))
  }

  /** Appends one record durably; on failure the file is cut back so no part of it can be replayed. */
  async append(data: Buffer): Promise<void> {
    this.unused = false
    if (this.handle === undefined) this.handle = await open(this.path, this.flags)
    const handle = this.handle
    if (this.mustTruncate) {
      await this.settlePreparing()
      await handle.truncate(this.size)
      this.mustTruncate = false
      this.allocated = this.size
    }
    try {
      if (this.prepared && this.size + data.length > this.allocated) {
        await this.settlePreparing()
        if (this.size + data.length > this.allocated) await this.prepare(handle.fd, data.length)
      }
      // The callback forms on the descriptor: a FileHandle call allocates a promise request with its
      // own stats array and a result object, garbage that adds up to extra GC pauses at one append
      // per save. The handle stays open while a call or a preparation runs, so the descriptor is
      // valid.
      let written = 0
      while (written < data.length) written += await writeAt(handle.fd, data, written, this.size + written)
      if (this.sync === 'fdatasync') await syncData(handle.fd)
    } catch (error) {
      await this.settlePreparing()
      if (!(await this.unwrite(handle.fd, data.length))) {
        try {
          await handle.truncate(this.size)
          this.allocated = this.size
        } catch {
          this.mustTruncate = true
        }
      }
      throw error
    }
    this.size += data.length
    if (this.size > this.allocated) this.allocated = this.size
    // The next chunk is written while records still go into this one, beside them (the disk takes
    // both at once), so no append waits for zeros unless the records outrun it.
    if (this.prepared && this.preparing === undefined && this.allocated - this.size < this.lastChunk / 2) {
      this.preparing = this.prepare(handle.fd, 0)
        .catch(() => undefined)
        .finally(() => {
          this.preparing = undefined
        })
    }
  }

  /**
   * After a failed append, puts the prepared space it was written into back to zeros, durably, and
   * cuts off what it grew the file by, so that no part of it can be replayed and the space stays
   * prepared: on a full disk, cutting the file back to its records would hand that space to
   * whatever else fills the disk, and the next record that fits in it would fail too. False when
   * there is no prepared space to keep or this fails (the caller then cuts back to the records).
   */
  private async unwrite(fd: number, length: number): Promise<boolean> {
    if (!this.prepared || this.allocated <= this.size) return false
    try {
      await truncateTo(fd, this.allocated)
      const end = Math.min(this.size + length, this.allocated)
      const chunk = Buffer.alloc(end - this.size)
      let written = 0
      while (written < chunk.length) written += await writeAt(fd, chunk, written, this.size + written)
      if (this.sync === 'fdatasync') await syncData(fd)
      return true
    } catch {
      return false
    }
  }

  /** Waits for a preparation running beside the appends, if any. */
  private async settlePreparing(): Promise<void> {
    while (this.preparing !== undefined) await this.preparing
  }

  /**
   * Writes zero bytes past the end, durably, so that the next records overwrite instead of grow.
   * `needed`: bytes of the record waiting for the space, 0 when preparing ahead.
   */
  private async prepare(fd: number, needed: number): Promise<void> {
    if (this.size < this.prepareFrom) return
    const grow = Math.min(MAX_PREPARED_BYTES, Math.max(FIRST_PREPARED_BYTES, this.allocated))
    const length = Math.max(grow, this.size + needed - this.allocated)
    // One shared buffer of zeros, at most a chunk's size: a record larger than that gets its own.
    if (zeros === undefined || zeros.length < Math.min(length, MAX_PREPARED_BYTES))
      zeros = Buffer.alloc(Math.min(length, MAX_PREPARED_BYTES))
    const chunk = length <= zeros.length ? zeros.subarray(0, length) : Buffer.alloc(length)
    const from = this.allocated
    try {
      let written = 0
      while (written < length) written += await writeAt(fd, chunk, written, from + written)
      if (this.sync === 'fdatasync') await syncData(fd)
    } catch (error) {
      // No room for it (a full disk, a quota): the record may still fit, growing the file as it
      // would without prepared space. What part of the zeros was written is cut off first, and
      // the next try waits until the journal has grown by a first chunk.
      await truncateTo(fd, from).catch(() => {
        throw error
      })
      this.prepareFrom = this.size + FIRST_PREPARED_BYTES
      return
    }
    this.allocated = from + length
    this.lastChunk = length
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
    this.unused = false
    await this.settlePreparing()
    await writeAtomicChunks(this.path, tail.length > 0 ? [tail] : [])
    // From here on the old handle points at an unlinked file: it must never be written again.
    const old = this.handle
    this.handle = undefined
    this.size = tail.length
    this.allocated = tail.length
    this.prepareFrom = 0
    this.mustTruncate = false
    await old?.close().catch(() => undefined)
    // If this open fails, the next append opens the file again.
    this.handle = await open(this.path, this.flags)
  }

  /** Closes the file, cutting off its prepared space so that it holds only records. */
  async close(): Promise<void> {
    await this.settlePreparing()
    const handle = this.handle
    this.handle = undefined
    if (handle === undefined) return
    try {
      // Not made durable: prepared zeros left by a crash read as the end of the data all the same.
      if (this.allocated > this.size && !this.mustTruncate) {
        await handle.truncate(this.size).catch(() => undefined)
        this.allocated = this.size
      }
    } finally {
      await handle.close()
    }
  }

  /**
   * Removes the file if this journal created it and nothing was ever written to it, so that a store
   * only read leaves no file behind. Call it closed and under the store's lock: an empty journal
   * and none mean the same, and no other writer can be appending meanwhile.
   */
  async removeIfUnused(): Promise<void> {
    if (!this.unused || this.size !== 0) return
    this.unused = false
    await unlink(this.path).catch(() => undefined)
  }
}

function writeAt(fd: number, data: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, data, offset, data.length - offset, position, (error, bytesWritten) => {
      if (error) reject(error)
      else resolve(bytesWritten)
    })
  })
}

function truncateTo(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    ftruncate(fd, length, (error) => {
      if (error) reject(error)
      else resolve()
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
