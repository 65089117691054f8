import { type FileHandle, open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, it, vi } from 'vitest'
import { DeferredConversation } from '../../../src/backends/file/deferred-conversation.js'
import { SnapshotFormatError } from '../../../src/backends/file/legacy-format.js'
import { readReserveBytes, readSnapshot } from '../../../src/backends/file/read-snapshot.js'
import { SnapshotParser } from '../../../src/backends/file/snapshot-parser.js'
import type { Message } from '../../../src/message.js'
import { testScratch } from '../../helpers.js'

const { fresh } = testScratch()

const message = { role: 'user', content: 'x'.repeat(1000), timestamp: '2025-01-01T10:00:00' }

/** The bytes of the buffers that the conversations of the snapshot `text`, read from disk, hold. */
async function heldBytes(text: string): Promise<number> {
  const path = join(await fresh(), 'conversations.json')
  await writeFile(path, text)
  const file = await readSnapshot(path)
  expect(file?.bytes).toBe(Buffer.byteLength(text))
  const held = new Set<ArrayBufferLike>()
  for (const stored of file?.data.conversations.values() ?? []) {
    expect(stored).toBeInstanceOf(DeferredConversation)
    held.add((stored as unknown as { bytes: Buffer }).bytes.buffer)
  }
  return [...held].reduce((sum, buffer) => sum + buffer.byteLength, 0)
}

it('conversations kept as bytes hold no more buffer than the file when its last read piece is short', async () => {
  // A little over one read piece (16 MiB): the second read finds about 1 MiB left.
  const conversations: Record<string, unknown[]> = {}
  for (let c = 0; c < 1700; c++) conversations[`c${c}`] = Array.from({ length: 10 }, () => message)
  const text = JSON.stringify({ conversations })
  // The file, the start of the conversation cut by the end of the first piece, read twice, and
  // the room reserved for it before the second piece.
  const room = readReserveBytes(16 * 1024 * 1024, 0)
  expect(await heldBytes(text)).toBeLessThan(Buffer.byteLength(text) + room + 64 * 1024)
})

it('conversations kept as bytes hold no more buffer than the file when one spans several read pieces', async () => {
  // About 40 MiB in one conversation, read in pieces of 16 MiB, then small ones.
  const conversations: Record<string, unknown[]> = { long: Array.from({ length: 40_000 }, () => message) }
  for (let c = 0; c < 100; c++) conversations[`c${c}`] = [message]
  const text = JSON.stringify({ conversations })
  expect(await heldBytes(text)).toBeLessThan(Buffer.byteLength(text) + 64 * 1024)
})

afterEach(() => {
  vi.restoreAllMocks()
})

// Small reads, so a small file takes many: the room before each piece is then 64 bytes to 1 KiB.
const PIECE = 4096

/**
 * A snapshot of conversations of a few hundred bytes, some of a few KB and one of about 40 KB, with
 * one byte that is not UTF-8 past the first pieces; and where that byte is.
 */
function manyPieces(): { bytes: Buffer; invalidAt: number } {
  const text = (c: number, m: number) => `conversation ${c} message ${m} ${'è "q" {b} \\ '.repeat(c % 7)}`
  const conversations: Record<string, unknown[]> = {}
  for (let c = 0; c < 120; c++) {
    const length = c === 60 ? 400 : c % 10 === 3 ? 30 : 2
    conversations[String(100_000 + c)] = Array.from({ length }, (_, m) => ({
      role: 'user',
      content: text(c, m),
    }))
  }
  conversations['100090']?.push({ role: 'user', content: 'NOT UTF-8' })
  const bytes = Buffer.from(
    JSON.stringify({ version: 3, conversations, last_updated: '2026-12-04' }, null, 2),
  )
  const invalidAt = bytes.indexOf('NOT UTF-8')
  bytes[invalidAt] = 0xff
  return { bytes, invalidAt }
}

/** The snapshot at `path`, every conversation kept as bytes parsed. */
async function readParsed(path: string): Promise<{ conversations: Map<string, Message[]>; extras: unknown }> {
  const file = await readSnapshot(path, undefined, { pieceBytes: PIECE })
  const conversations = new Map<string, Message[]>()
  for (const [id, stored] of file?.data.conversations ?? []) {
    conversations.set(id, stored instanceof DeferredConversation ? stored.parse() : stored)
  }
  return { conversations, extras: file?.data.extras }
}

/** What a parser fed the whole file at once gives, or its error message. */
function parsedWhole(bytes: Buffer): { conversations: Map<string, Message[]>; extras: unknown } | string {
  const parser = new SnapshotParser()
  try {
    parser.push(bytes)
    const { conversations, extras } = parser.end()
    return { conversations, extras }
  } catch (error) {
    if (!(error instanceof SnapshotFormatError)) throw error
    return error.message
  }
}

it('reads each piece while the one before is checked, and gives what a parser fed the whole file gives', async () => {
  const { bytes, invalidAt } = manyPieces()
  const path = join(await fresh(), 'conversations.json')
  await writeFile(path, bytes)
  const probe = await open(path, 'r')
  const read = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'read')
  await probe.close()
  // How many reads had started each time a piece was handed to the parser, and the parser.
  const readsAtTake: number[] = []
  let parser: SnapshotParser | undefined
  const take = SnapshotParser.prototype.take
  vi.spyOn(SnapshotParser.prototype, 'take').mockImplementation(function (this: SnapshotParser, ...args) {
    readsAtTake.push(read.mock.calls.length)
    parser = this
    take.apply(this, args)
  })

  const file = await readSnapshot(path, undefined, { pieceBytes: PIECE })
  expect(file?.bytes).toBe(bytes.length)
  expect(file?.invalidUtf8At).toBe(invalidAt)
  // Piece k is checked once the read of piece k + 1 has started (the last: the read that finds
  // the end of the file).
  const pieces = Math.ceil(bytes.length / PIECE)
  expect(readsAtTake).toEqual(Array.from({ length: pieces }, (_, k) => k + 2))
  // Tails longer than any room before a piece were copied with it.
  expect(parser?.longestTailBytes).toBeGreaterThan(readReserveBytes(PIECE, Number.POSITIVE_INFINITY))

  vi.restoreAllMocks()
  expect(await readParsed(path)).toEqual(parsedWhole(bytes))
})

it('refuses a damaged snapshot read in pieces with the message of a parser fed the whole file', async () => {
  const { bytes } = manyPieces()
  const text = bytes.toString('latin1')
  const dir = await fresh()
  // A stray comma in a short conversation, in the long one, and a file cut short in the long one.
  const short = text.indexOf('"conversation 100 message 1')
  const long = text.indexOf('"conversation 60 message 350')
  const damaged = [
    `${text.slice(0, short)},${text.slice(short)}`,
    `${text.slice(0, long)},${text.slice(long)}`,
    text.slice(0, long),
  ]
  for (const [n, variant] of damaged.entries()) {
    const path = join(dir, `damaged-${n}.json`)
    const damagedBytes = Buffer.from(variant, 'latin1')
    await writeFile(path, damagedBytes)
    const expected = parsedWhole(damagedBytes)
    expect(typeof expected).toBe('string')
    const error = await readSnapshot(path, undefined, { pieceBytes: PIECE }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(SnapshotFormatError)
    // The same, with the line and column of the byte, which only the reader of the file counts.
    expect((error as Error).message.replace(/ \(line \d+, column \d+\)/, '')).toBe(expected)
  }
})
