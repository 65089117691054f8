import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { MemoryError } from '../../../src/index.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import {
  mountUnavailable as canMount,
  fillDisk as fill,
  journalText,
  mountTmpfs,
  testScratch,
} from '../../helpers.js'

const { cleanups, fresh, open } = testScratch()

function contents(messages: Array<{ content: string }>): string[] {
  return messages.map((m) => m.content)
}

/** Makes the first write of a process fail for real: a directory stands where `.bak` must be renamed to. */
async function blockBackup(path: string): Promise<void> {
  const first = await openMemory({ path, flushOnExit: false })
  await first.add('a', { role: 'user', content: 'before' })
  await first.close()
  await mkdir(`${path}.bak`)
  await writeFile(join(`${path}.bak`, 'occupied'), 'x')
}

describe('faults at open', () => {
  it('a file where the directory should be: MemoryError io naming the directory and cause', async () => {
    const dir = await fresh()
    await writeFile(join(dir, 'memory'), 'I am a file')
    const attempt = openMemory({ path: join(dir, 'memory', 'conversations.json'), flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(
      `cannot create directory ${JSON.stringify(join(dir, 'memory'))}: ${JSON.stringify(join(dir, 'memory'))} is a file, not a directory`,
    )
  })

  // Node's recursive mkdir retries forever where mkdir answers ENOENT for a directory it will never
  // make, as in /proc: the store must fail there, not hang.
  it.runIf(existsSync('/proc/self'))(
    'a directory the file system cannot make (/proc): MemoryError io naming it',
    async () => {
      const dir = '/proc/taurobot-memory-test/memory'
      const attempt = openMemory({ path: join(dir, 'conversations.json'), flushOnExit: false })
      await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
      await expect(attempt).rejects.toThrow(
        `cannot create directory "/proc/taurobot-memory-test" for ${JSON.stringify(dir)}: ENOENT`,
      )
    },
  )

  it("the store's own file given as its directory: the error names that file, says to point path at it, and leaves it", async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    const first = await openMemory({ path, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'kept' })
    await first.close()
    const before = await readFile(path, 'utf8')
    const attempt = openMemory({ path: join(path, 'deeper', 'conversations.json'), flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(
      `cannot create directory ${JSON.stringify(join(path, 'deeper'))}: ${JSON.stringify(path)} is a file, not a directory (ENOTDIR). If it is the store's file, point path at it; otherwise move it out of the way.`,
    )
    expect(await readFile(path, 'utf8')).toBe(before)
  })

  it('a directory where the journal should be: MemoryError io naming the journal, EISDIR', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    await mkdir(`${path}.journal`)
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(/conversations\.json\.journal": EISDIR/)
    expect(existsSync(`${path}.lock`)).toBe(false)
  })
})

describe('a write fault in the middle of a run (EISDIR on the first write)', () => {
  it('batched: add() keeps accepting, error is emitted, flush/close reject, the next flush retries, nothing is lost', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    await blockBackup(path)
    const errors: unknown[] = []
    const memory = await open({
      path,
      saveEvery: 2,
      flushIntervalMs: 20,
      onError: (error) => errors.push(error),
    })
    for (let i = 0; i < 6; i++) await memory.add('a', { role: 'user', content: `m${i}` })
    const flushed = memory.flush()
    await expect(flushed).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(flushed).rejects.toThrow(/cannot write backup ".*conversations\.json\.bak": EISDIR/)
    const error = (await flushed.catch((e: unknown) => e)) as MemoryError
    expect(error.details.file).toBe(`${path}.bak`)
    expect(error.cause).toBeInstanceOf(Error)
    // Background writes reported the same failure through the error event.
    for (let tries = 0; errors.length === 0 && tries < 200; tries++)
      await new Promise((r) => setTimeout(r, 10))
    expect(isMemoryError(errors[0], 'io')).toBe(true)
    await memory.add('a', { role: 'user', content: 'm6' })
    expect((await memory.stats()).pending).toBe(7)
    expect(contents(await memory.history('a'))).toEqual(['before', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    await expect(memory.close()).rejects.toThrow(/EISDIR/)
    // The fault goes away: the next flush writes everything, once and in order.
    await rm(`${path}.bak`, { recursive: true })
    await memory.flush()
    expect((await memory.stats()).pending).toBe(0)
    await memory.close()
    const again = await open({ path })
    expect(contents(await again.history('a'))).toEqual(['before', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
  })

  it('strict: add() rejects with MemoryError io and the message is not stored', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    await blockBackup(path)
    const memory = await open({ path, durability: 'strict' })
    const attempt = memory.add('a', { role: 'user', content: 'refused' })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(/EISDIR/)
    expect(contents(await memory.history('a'))).toEqual(['before'])
    await rm(`${path}.bak`, { recursive: true })
    await memory.add('a', { role: 'user', content: 'accepted' })
    await memory.destroy()
    const again = await open({ path })
    expect(contents(await again.history('a'))).toEqual(['before', 'accepted'])
  })
})

const mountUnavailable = canMount()

/** Bytes the journal has prepared past its records, which a full disk does not take away. */
async function preparedRoom(path: string, memory: Awaited<ReturnType<typeof openMemory>>): Promise<number> {
  const journalBytes = (await memory.stats()).journalBytes as number
  return (await stat(`${path}.journal`)).size - journalBytes
}

async function tmpfs(sizeKiB: number): Promise<string> {
  const { mountPoint, unmount } = await mountTmpfs(await fresh(), sizeKiB)
  cleanups.push(unmount)
  return mountPoint
}

describe.skipIf(mountUnavailable !== undefined)(
  `real disk faults on tmpfs${mountUnavailable ? ` (skipped: ${mountUnavailable})` : ''}`,
  () => {
    it('disk full (ENOSPC): batched keeps everything pending and retries, strict rejects, close rejects naming the journal', async () => {
      const mnt = await tmpfs(256)
      const path = join(mnt, 'memory', 'conversations.json')
      const errors: unknown[] = []
      const memory = await open({ path, saveEvery: 3, onError: (error) => errors.push(error) })
      await memory.add(1, { role: 'user', content: 'fits' })
      await memory.flush()
      // A batched store's journal grows per record: no prepared space to write into.
      expect(await preparedRoom(path, memory)).toBe(0)
      const filler = await fill(mnt)
      const size = 2000
      for (let i = 0; i < 9; i++)
        await memory.add(1, { role: 'user', content: `while full ${i} ${'x'.repeat(size)}` })
      await expect(memory.flush()).rejects.toThrow(
        /cannot append to journal ".*conversations\.json\.journal": ENOSPC/,
      )
      await expect(memory.close()).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
      expect((await memory.stats()).pending).toBe(9)
      expect((await memory.history(1)).length).toBe(10)
      expect(errors.length).toBeGreaterThan(0)
      // The journal was cut back: no partial record is left behind.
      const journal = await journalText(`${path}.journal`)
      expect(journal.endsWith('\n')).toBe(true)
      expect(journal.split('\n').filter(Boolean)).toHaveLength(1)
      await rm(filler)
      await memory.flush()
      await memory.close()
      const again = await open({ path })
      const history = await again.history(1)
      expect(history.map((m) => m.content.slice(0, 12))).toEqual([
        'fits',
        ...Array.from({ length: 9 }, (_, i) => `while full ${i}`),
      ])
    })

    it('disk full in strict mode: add() rejects, then succeeds once space is back', async () => {
      const mnt = await tmpfs(256)
      const path = join(mnt, 'conversations.json')
      const memory = await open({ path, durability: 'strict' })
      await memory.add(1, { role: 'user', content: 'fits' })
      const filler = await fill(mnt)
      const room = await preparedRoom(path, memory)
      await expect(memory.add(1, { role: 'user', content: 'x'.repeat(room + 1000) })).rejects.toThrow(
        /ENOSPC/,
      )
      await rm(filler)
      await memory.add(1, { role: 'user', content: 'after' })
      expect(contents(await memory.history(1))).toEqual(['fits', 'after'])
    })

    it('disk full in strict mode: a record larger than the prepared space left fails without giving that space up', async () => {
      const mnt = await tmpfs(256)
      const path = join(mnt, 'conversations.json')
      const memory = await open({ path, durability: 'strict' })
      await memory.add(1, { role: 'user', content: 'before' })
      await mkdir(join(mnt, 'other'))
      const filler = await fill(mnt)
      const room = await preparedRoom(path, memory)
      expect(room).toBeGreaterThan(20_000)
      await expect(memory.add(1, { role: 'user', content: 'x'.repeat(room + 1000) })).rejects.toThrow(
        /ENOSPC/,
      )
      // Another program takes whatever the failed append freed: the prepared space must not be it.
      const other = await fill(join(mnt, 'other'))
      await memory.add(1, { role: 'user', content: `fits ${'y'.repeat(Math.floor(room / 2))}` })
      await memory.destroy()
      await rm(other)
      await rm(filler)
      // The failed record was zeroed: nothing of it is replayed, reported as damage or warned about.
      const reports: string[] = []
      const again = await open({
        path,
        onWarning: (warning) => reports.push(String(warning)),
        onRecovered: (info) => reports.push(info.message),
      })
      expect((await again.history(1)).map((m) => m.content.split(' ')[0])).toEqual(['before', 'fits'])
      expect(reports).toEqual([])
    })

    it('disk full in strict mode: adds go on into the space the journal prepared, durable, until it is used up', async () => {
      const mnt = await tmpfs(256)
      const path = join(mnt, 'conversations.json')
      const memory = await open({ path, durability: 'strict' })
      await memory.add(1, { role: 'user', content: 'before' })
      const filler = await fill(mnt)
      const room = await preparedRoom(path, memory)
      expect(room).toBeGreaterThan(10_000)
      const each = Math.floor(room / 8)
      let stored = 0
      let refusal: unknown
      while (refusal === undefined) {
        await memory.add(1, { role: 'user', content: `${stored} ${'x'.repeat(each)}` }).then(
          () => stored++,
          (error: unknown) => {
            refusal = error
          },
        )
      }
      // Records of about room / 8 bytes: 7 fit in the prepared space, the 8th goes past its end.
      expect(stored).toBe(7)
      expect(refusal).toSatisfy((error) => isMemoryError(error, 'io'))
      expect(String((refusal as Error).message)).toMatch(/ENOSPC/)
      // What was acknowledged is on disk: a crash now (no close, no compaction) loses none of it.
      await memory.destroy()
      await rm(filler)
      const again = await open({ path })
      const history = await again.history(1)
      expect(history.map((m) => m.content.split(' ')[0])).toEqual([
        'before',
        ...Array.from({ length: 7 }, (_, i) => `${i}`),
      ])
    })

    it('a damaged snapshot whose restore cannot be written stays recoverable at the next open', async () => {
      const mnt = await tmpfs(512)
      const path = join(mnt, 'conversations.json')
      const first = await openMemory({ path, flushOnExit: false })
      for (let i = 0; i < 20; i++) await first.add(1, { role: 'user', content: `${i} ${'x'.repeat(1000)}` })
      await first.close()
      const second = await openMemory({ path, saveEvery: 1, flushOnExit: false })
      await second.add(1, { role: 'user', content: 'in journal' })
      await second.flush()
      await second.destroy()
      await writeFile(path, '{"conversations": ')
      // Leave room for the lock file only: the restored snapshot cannot be written.
      const reserve = join(mnt, 'reserve')
      await writeFile(reserve, Buffer.alloc(8192))
      const filler = await fill(mnt)
      await rm(reserve)
      const attempt = openMemory({ path, flushOnExit: false })
      await expect(attempt).rejects.toThrow(/cannot write snapshot .*ENOSPC/)
      expect(await readFile(path, 'utf8')).toBe('{"conversations": ')
      await rm(filler)
      const recovered: unknown[] = []
      const memory = await open({ path, onRecovered: (info) => recovered.push(info) })
      expect(recovered).toHaveLength(1)
      const history = await memory.history(1)
      expect(history).toHaveLength(21)
      expect(history[20]?.content).toBe('in journal')
    })

    it('read-only file system (EROFS), store directories to create: names EROFS and the directory, not ENOENT', async () => {
      const mnt = await tmpfs(64)
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      const one = openMemory({ path: join(mnt, 'memory', 'conversations.json'), flushOnExit: false })
      await expect(one).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
      await expect(one).rejects.toThrow(
        `cannot create directory ${JSON.stringify(join(mnt, 'memory'))}: EROFS. The file system is read-only; point path at a writable location.`,
      )
      // Node's recursive mkdir says ENOENT for a nested one: the first it could not make is named.
      const nested = openMemory({ path: join(mnt, 'a', 'b', 'conversations.json'), flushOnExit: false })
      await expect(nested).rejects.toThrow(
        `cannot create directory ${JSON.stringify(join(mnt, 'a'))} for ${JSON.stringify(join(mnt, 'a', 'b'))}: EROFS. The file system is read-only`,
      )
      await expect(nested).rejects.toMatchObject({ details: { file: join(mnt, 'a', 'b'), errno: 'EROFS' } })
    })

    it('read-only file system (EROFS): open rejects with MemoryError io naming the file', async () => {
      const mnt = await tmpfs(256)
      const path = join(mnt, 'conversations.json')
      const first = await openMemory({ path, flushOnExit: false })
      await first.add(1, { role: 'user', content: 'x' })
      await first.close()
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      const attempt = openMemory({ path, flushOnExit: false })
      await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
      await expect(attempt).rejects.toThrow(/EROFS\. The file system is read-only/)
      // The lock file it could not create, not the temporary name it writes that file under first.
      await expect(attempt).rejects.toThrow(
        `cannot create lock file ${JSON.stringify(`${path}.lock`)}: EROFS`,
      )
      await expect(attempt).rejects.toMatchObject({ details: { file: `${path}.lock`, errno: 'EROFS' } })
    })
  },
)
