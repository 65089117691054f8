import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, mkdir, readdir, readFile, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCompact } from '../../../src/compact.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { ensureBuilt, testScratch } from '../../helpers.js'

const { fresh, open } = testScratch()

async function contents(path: string): Promise<string[]> {
  const snapshot = JSON.parse(await readFile(path, 'utf8'))
  return Object.values(snapshot.conversations as Record<string, Array<{ content: string }>>)
    .flat()
    .map((message) => message.content)
}

describe('a path that is a symbolic link', () => {
  it('writes through the link: the target is updated, the link stays, the other files live beside the target', async () => {
    const dir = await fresh()
    await mkdir(join(dir, 'data'))
    await mkdir(join(dir, 'bot'))
    const target = join(dir, 'data', 'c.json')
    const first = await openMemory({ path: target, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'before' })
    await first.close()
    const link = join(dir, 'bot', 'conversations.json')
    await symlink(target, link)
    const memory = await openMemory({ path: link, flushOnExit: false })
    expect(existsSync(`${target}.lock`)).toBe(true)
    await memory.add('a', { role: 'user', content: 'through the link' })
    await memory.close()
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    expect(await contents(target)).toEqual(['before', 'through the link'])
    expect(await readdir(join(dir, 'bot'))).toEqual(['conversations.json'])
    expect((await readdir(join(dir, 'data'))).sort()).toEqual(['c.json', 'c.json.bak', 'c.json.journal'])
  })

  it('creates a missing target through a relative link, and through a chain of links', async () => {
    const dir = await fresh()
    await mkdir(join(dir, 'data'))
    await symlink(join('data', 'c.json'), join(dir, 'one.json'))
    await symlink('one.json', join(dir, 'two.json'))
    const memory = await open({ path: join(dir, 'two.json') })
    await memory.add('a', { role: 'user', content: 'new' })
    await memory.close()
    expect(await contents(join(dir, 'data', 'c.json'))).toEqual(['new'])
    expect((await lstat(join(dir, 'two.json'))).isSymbolicLink()).toBe(true)
    expect((await lstat(join(dir, 'one.json'))).isSymbolicLink()).toBe(true)
  })

  it('two links to one store share its lock: the second open gets locked', async () => {
    const dir = await fresh()
    const target = join(dir, 'c.json')
    await symlink(target, join(dir, 'a.json'))
    await symlink(target, join(dir, 'b.json'))
    await open({ path: join(dir, 'a.json') })
    const attempt = openMemory({ path: join(dir, 'b.json'), flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
  })

  it('refuses a link into a directory that does not exist, naming the target, and creates nothing', async () => {
    const dir = await fresh()
    const target = join(dir, 'unmounted', 'c.json')
    await symlink(target, join(dir, 'c.json'))
    const attempt = openMemory({ path: join(dir, 'c.json'), flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(
      `symbolic link to ${JSON.stringify(target)}, whose directory does not exist`,
    )
    expect(existsSync(join(dir, 'unmounted'))).toBe(false)
    expect(await readdir(dir)).toEqual(['c.json'])
  })

  it('refuses a loop of links', async () => {
    const dir = await fresh()
    await symlink('b.json', join(dir, 'a.json'))
    await symlink('a.json', join(dir, 'b.json'))
    const attempt = openMemory({ path: join(dir, 'a.json'), flushOnExit: false })
    await expect(attempt).rejects.toThrow(/loop of symbolic links/)
  })

  it('taurobot-memory compact completes the target through the link', async () => {
    const dir = await fresh()
    const target = join(dir, 'c.json')
    const link = join(dir, 'link.json')
    await symlink(target, link)
    const memory = await openMemory({ path: link, flushOnExit: false, saveEvery: 1 })
    await memory.add('a', { role: 'user', content: 'journaled' })
    await memory.flush()
    await memory.destroy()
    expect(existsSync(target)).toBe(false)
    await runCompact(link)
    expect(await contents(target)).toEqual(['journaled'])
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
  })

  it('taurobot-memory migrate refuses a link to <from> as <to>: one store', async () => {
    const dir = await fresh()
    const target = join(dir, 'c.json')
    const memory = await openMemory({ path: target, flushOnExit: false })
    await memory.add('a', { role: 'user', content: 'x' })
    await memory.close()
    await symlink(target, join(dir, 'link.json'))
    const cli = spawnSync(
      process.execPath,
      [ensureBuilt('cli.js'), 'migrate', target, join(dir, 'link.json')],
      {
        encoding: 'utf8',
      },
    )
    expect(cli.status).toBe(2)
    expect(cli.stderr).toMatch(/<from> and <to> are the same store/)
  })
})
