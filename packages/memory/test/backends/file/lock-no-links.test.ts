import { readdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { deadPid, testScratch } from '../../helpers.js'

// A file system without hard links (FAT) cannot be mounted here: link() fails as it does there.
const link = vi.hoisted(() =>
  vi.fn(async () => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })
  }),
)
vi.mock('node:fs/promises', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:fs/promises')>()),
  link,
}))

const { fresh, open } = testScratch()

describe('file lock on a file system without hard links', () => {
  it('is created by an exclusive open, holds the owner, and is removed on close', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path })
    expect(link).toHaveBeenCalled()
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    const second = openMemory({ path, flushOnExit: false })
    await expect(second).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await memory.close()
    expect(await readdir(dir)).not.toContain('c.json.lock')
  })

  it('takes over a stale lock, leaving no claim or temp file', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(`${path}.lock`, JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' }))
    await open({ path })
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    expect((await readdir(dir)).sort()).toEqual(['c.json.journal', 'c.json.lock'])
  })
})
