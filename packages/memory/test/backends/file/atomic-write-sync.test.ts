import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { WriteCalledOffError } from '../../../src/backends/file/atomic-write.js'
import {
  readIfExistsSync,
  readPrefixSync,
  writeAtomicChunksSync,
} from '../../../src/backends/file/atomic-write-sync.js'
import { tempDir } from '../../helpers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

describe("the compaction worker's blocking file I/O", () => {
  it('writes every piece in order, across many writev() calls, and returns the bytes', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, 'old')
    // 3,000 small pieces (more than one writev's worth) and a few large ones (more than 1 MiB).
    const pieces = [
      ...Array.from({ length: 3_000 }, (_, i) => `piece ${i} è;`),
      ...Array.from({ length: 3 }, (_, i) => String(i).repeat(700_000)),
    ]
    const bytes = writeAtomicChunksSync(path, pieces)
    const expected = pieces.join('')
    expect(bytes).toBe(Buffer.byteLength(expected))
    expect(await readFile(path, 'utf8')).toBe(expected)
    expect(await readdir(dir)).toEqual(['c.json'])
  })

  it('leaves the file untouched and no temp file behind when the write is called off', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, 'old')
    expect(() => writeAtomicChunksSync(path, ['new'], () => false)).toThrow(WriteCalledOffError)
    expect(await readFile(path, 'utf8')).toBe('old')
    expect(await readdir(dir)).toEqual(['c.json'])
  })

  it('rethrows a failed rename with its code and removes the temp file', async () => {
    const dir = await fresh()
    // A directory where the snapshot should be: the rename over it fails.
    const path = join(dir, 'c.json')
    await mkdir(path)
    await writeFile(join(path, 'inside'), 'kept')
    expect(() => writeAtomicChunksSync(path, ['new'])).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) }),
    )
    expect(await readdir(dir)).toEqual(['c.json'])
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('kept')
  })

  it('reads a prefix, and tells a file shorter than the prefix from a missing one', async () => {
    const dir = await fresh()
    const path = join(dir, 'j')
    await writeFile(path, 'abcdef')
    expect(readPrefixSync(path, 4)?.toString()).toBe('abcd')
    expect(readPrefixSync(path, 0)?.length).toBe(0)
    expect(readPrefixSync(path, 7)).toBeUndefined()
    expect(() => readPrefixSync(join(dir, 'missing'), 1)).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    expect(readIfExistsSync(join(dir, 'missing'))).toBeUndefined()
    expect(readIfExistsSync(path)?.toString()).toBe('abcdef')
  })
})
