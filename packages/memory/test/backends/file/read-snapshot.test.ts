import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { DeferredConversation } from '../../../src/backends/file/deferred-conversation.js'
import { readSnapshot } from '../../../src/backends/file/read-snapshot.js'
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
  // The file, and the start of the conversation cut by the end of the first piece, read twice.
  expect(await heldBytes(text)).toBeLessThan(Buffer.byteLength(text) + 64 * 1024)
})

it('conversations kept as bytes hold no more buffer than the file when one spans several read pieces', async () => {
  // About 40 MiB in one conversation, read in pieces of 16 MiB, then small ones.
  const conversations: Record<string, unknown[]> = { long: Array.from({ length: 40_000 }, () => message) }
  for (let c = 0; c < 100; c++) conversations[`c${c}`] = [message]
  const text = JSON.stringify({ conversations })
  expect(await heldBytes(text)).toBeLessThan(Buffer.byteLength(text) + 64 * 1024)
})
