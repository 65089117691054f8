import { chmod, link, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { copyAtomic, writeAtomicChunks } from '../../../src/backends/file/atomic-write.js'
import { writeAtomicChunksSync } from '../../../src/backends/file/atomic-write-sync.js'
import { fileBackend } from '../../../src/index.js'
import { testScratch } from '../../helpers.js'

const { fresh, open } = testScratch()

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777
}

/** A Python-format snapshot of `n` messages in conversation `a`, with the permission bits `mode`. */
async function privateSnapshot(dir: string, mode: number, n = 3): Promise<string> {
  const path = join(dir, 'conversations.json')
  const messages = Array.from({ length: n }, (_, i) => ({
    role: 'user',
    content: `m${i}`,
    timestamp: '2026-12-04T10:00:00',
  }))
  await writeFile(path, JSON.stringify({ conversations: { a: messages } }, null, 2))
  await chmod(path, mode)
  return path
}

describe('permission bits of the files the file backend writes', () => {
  it('a private (0600) snapshot stays private: the snapshot written at close, its journal and its .bak', async () => {
    const path = await privateSnapshot(await fresh(), 0o600)
    const memory = await open({ path })
    await memory.add('a', { role: 'user', content: 'new' })
    await memory.flush()
    expect(await modeOf(`${path}.journal`)).toBe(0o600)
    await memory.close()
    expect(await modeOf(path)).toBe(0o600)
    expect(await modeOf(`${path}.bak`)).toBe(0o600)
    expect(await modeOf(`${path}.journal`)).toBe(0o600)
    const again = await open({ path })
    expect((await again.history('a')).map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'new'])
  })

  it('a read-only (0444) snapshot stays read-only; its journal is still writable by its owner (0644)', async () => {
    const path = await privateSnapshot(await fresh(), 0o444)
    const memory = await open({ path })
    await memory.add('a', { role: 'user', content: 'new' })
    await memory.flush()
    // Reopened for writing by the next process: a 0444 journal would refuse it (EACCES) to any
    // user but root.
    expect(await modeOf(`${path}.journal`)).toBe(0o644)
    await memory.close()
    expect(await modeOf(path)).toBe(0o444)
  })

  it('the journal follows the snapshot: made exactly with its bits whatever the umask, and changed at open when the snapshot was made private later', async () => {
    const dir = await fresh()
    const path = await privateSnapshot(dir, 0o660)
    const first = await open({ path })
    await first.add('a', { role: 'user', content: 'one' })
    await first.flush()
    // 0660 kept exactly: a umask of 022 would have made the new journal 0640.
    expect(await modeOf(`${path}.journal`)).toBe(0o660)
    await first.destroy()
    // Made private while the store was closed: the journal (still holding 'one') follows at the next open.
    await chmod(path, 0o600)
    const second = await open({ path })
    expect(await modeOf(`${path}.journal`)).toBe(0o600)
    expect((await second.history('a')).map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'one'])
  })

  it('a rewrite at close by compactOnClose "always" keeps bits the umask would clear (0660)', async () => {
    const path = await privateSnapshot(await fresh(), 0o660)
    const memory = await open({ backend: fileBackend({ path, compactOnClose: 'always' }) })
    await memory.add('a', { role: 'user', content: 'new' })
    await memory.close()
    expect(await modeOf(path)).toBe(0o660)
  })

  it('each atomic write takes the bits of the file it replaces, or of the file it copies; a new file gets 0644 less the umask', async () => {
    const dir = await fresh()
    const target = join(dir, 'target')
    await writeFile(target, 'old')
    await chmod(target, 0o640)
    await writeAtomicChunks(target, ['new'])
    expect(await modeOf(target)).toBe(0o640)
    await chmod(target, 0o600)
    writeAtomicChunksSync(target, ['newer'])
    expect(await modeOf(target)).toBe(0o600)
    await copyAtomic(target, join(dir, 'copy'))
    expect(await modeOf(join(dir, 'copy'))).toBe(0o600)
    // A link shares the inode, and so the bits: nothing to check there beyond that it stays one.
    await link(target, join(dir, 'linked'))
    expect(await modeOf(join(dir, 'linked'))).toBe(0o600)
    await writeAtomicChunks(join(dir, 'fresh'), ['x'])
    expect(await modeOf(join(dir, 'fresh'))).toBe(0o644 & ~process.umask())
  })
})
