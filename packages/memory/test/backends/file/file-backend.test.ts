import { existsSync } from 'node:fs'
import { appendFile, cp, link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { WriteCalledOffError } from '../../../src/backends/file/atomic-write.js'
import { CLAIM_CALLED_OFF, CLAIM_COMMITTING, compactFromDisk } from '../../../src/backends/file/compaction.js'
import type { RecoveredInfo } from '../../../src/index.js'
import { fileBackend, isMemoryError, openMemory } from '../../../src/index.js'
import { describeBackendContract } from '../../contract.js'
import { tempDir, testScratch } from '../../helpers.js'

describeBackendContract(
  'file',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'memory', 'conversations.json')
    return { make: () => fileBackend({ path }), cleanup }
  },
  { persistent: true },
)

const { stores, fresh, open } = testScratch()

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0)
}

describe('file backend', () => {
  it('creates the directory, appends one journal line per batch, and writes the snapshot on close', async () => {
    const dir = await fresh()
    const path = join(dir, 'a', 'b', 'conversations.json')
    const memory = await openMemory({ path, saveEvery: 5, flushOnExit: false })
    for (let i = 0; i < 12; i++) await memory.add(i % 2, { role: 'user', content: `m${i}` })
    await memory.flush()
    const journal = lines(await readFile(`${path}.journal`, 'utf8'))
    expect(journal.length).toBeLessThanOrEqual(3)
    expect(journal.length).toBeGreaterThanOrEqual(2)
    expect(existsSync(path)).toBe(false)
    const stats = await memory.stats()
    expect(stats.journalBytes).toBeGreaterThan(0)
    expect(stats.bytesWritten).toBe(stats.journalBytes)
    await memory.close()
    expect(existsSync(`${path}.lock`)).toBe(false)
    const snapshot = JSON.parse(await readFile(path, 'utf8'))
    expect(Object.keys(snapshot.conversations)).toEqual(['0', '1'])
    expect(snapshot.conversations['0']).toHaveLength(6)
    expect(typeof snapshot.last_updated).toBe('string')
    expect((await readFile(`${path}.journal`)).length).toBe(0)
  })

  it('compacts when the journal outgrows the snapshot and keeps everything once', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const backend = fileBackend({ path, compactionMinBytes: 2048, compactionRatio: 1 })
    const memory = await open({ backend, saveEvery: 3 })
    for (let i = 0; i < 400; i++) {
      await memory.add(`u${i % 4}`, { role: 'user', content: `message ${i} ${'x'.repeat(i % 50)}` })
      if (i % 10 === 9) await memory.flush()
    }
    // Compaction runs in the background: wait until at least two have completed.
    let stats = await memory.stats()
    for (let tries = 0; (stats.compactions ?? 0) < 2 && tries < 500; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      stats = await memory.stats()
    }
    expect(stats.compactions).toBeGreaterThanOrEqual(2)
    expect(stats.journalBytes).toBeLessThan(stats.bytesWritten)
    expect(stats.snapshotBytes).toBeGreaterThan(0)
    await memory.destroy()
    // Reopen without the final compaction: snapshot + journal replay must give each message once.
    const again = await open({ path })
    for (let u = 0; u < 4; u++) {
      const contents = (await again.history(`u${u}`)).map((m) => m.content.split(' ')[1])
      expect(contents).toEqual(Array.from({ length: 100 }, (_, k) => String(k * 4 + u)))
    }
  })

  it('replays a journal that was not restarted after a snapshot without duplicates', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path, saveEvery: 1 })
    for (let i = 0; i < 5; i++) await memory.add('a', { role: 'user', content: String(i) })
    await memory.flush()
    const journalBefore = await readFile(`${path}.journal`)
    await memory.close()
    // Simulate a crash between the snapshot rename and the journal restart.
    await writeFile(`${path}.journal`, journalBefore)
    const again = await open({ path })
    expect((await again.history('a')).map((m) => m.content)).toEqual(['0', '1', '2', '3', '4'])
  })

  it('drops a torn final journal record with a warning and keeps appending after it', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path, saveEvery: 1 })
    await memory.add('a', { role: 'user', content: 'kept' })
    await memory.flush()
    await memory.destroy()
    await appendFile(`${path}.journal`, '{"s":2,"a":[["a",[{"role":"user","content":"tor')
    const warnings: string[] = []
    const again = await open({ path, saveEvery: 1, onWarning: (w) => warnings.push(w) })
    expect(warnings.join()).toMatch(/unterminated final record/)
    expect((await again.history('a')).map((m) => m.content)).toEqual(['kept'])
    await again.add('a', { role: 'user', content: 'next' })
    await again.flush()
    await again.destroy()
    const third = await open({ path })
    expect((await third.history('a')).map((m) => m.content)).toEqual(['kept', 'next'])
  })

  it('warns once at open about conversations in the file longer than maxMessages', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    const turns = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `m${i}`,
        timestamp: '2025-10-12T09:15:02.123456',
      }))
    // As the Python bot writes it (json.dump with indent=2).
    const python = { conversations: { '123': turns(1200), '456': turns(1500), '789': turns(3) } }
    await writeFile(path, JSON.stringify(python, null, 2))
    const warnings: string[] = []
    const memory = await open({ path, onWarning: (w) => warnings.push(w) })
    const about = warnings.filter((w) => w.includes('maxMessages'))
    expect(about).toHaveLength(1)
    expect(about[0]).toContain('2 conversations hold more than maxMessages (1000) messages')
    expect(about[0]).toContain('the longest "456" with 1500')
    expect(about[0]).toContain('oldest messages are dropped from the file at its next write')
    expect(about[0]).toContain('open the store with a larger maxMessages')
    await memory.destroy()

    const quiet: string[] = []
    const enough = await open({ path, maxMessages: 1500, onWarning: (w) => quiet.push(w) })
    expect(quiet).toEqual([])
    expect(await enough.history('456')).toHaveLength(1500)
    await enough.destroy()

    // What the warning announces: after a write, the file keeps the newest 1000.
    const writer = await open({ path, onWarning: () => undefined })
    await writer.add('456', { role: 'user', content: 'new' })
    await writer.close()
    const after: string[] = []
    const later = await open({ path, maxMessages: 5000, onWarning: (w) => after.push(w) })
    expect(after).toEqual([])
    expect((await later.history('456')).map((m) => m.content).slice(0, 1)).toEqual(['m501'])
  })

  it('reads zero bytes after the last record as prepared space, not a torn write, and cuts them off at open', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path, saveEvery: 1 })
    await memory.add('a', { role: 'user', content: 'kept' })
    await memory.flush()
    await memory.destroy()
    // What a crash leaves (the store's own prepared space), or a power loss on a file system that
    // allocates late: zeros in place of data that was never acknowledged.
    await appendFile(`${path}.journal`, Buffer.alloc(4096))
    const warnings: string[] = []
    const again = await open({ path, onWarning: (w) => warnings.push(w) })
    expect(warnings).toEqual([])
    expect((await again.history('a')).map((m) => m.content)).toEqual(['kept'])
    expect((await stat(`${path}.journal`)).size).toBe((await again.stats()).journalBytes)
  })

  it('writes records into space prepared ahead, so appends overwrite instead of growing the file, and close cuts it off', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path, durability: 'strict' })
    const sizes = new Set<number>()
    for (let i = 0; i < 200; i++) {
      await memory.add('a', { role: 'user', content: `${i} ${'x'.repeat(1000)}` })
      const { size } = await stat(`${path}.journal`)
      expect(size).toBeGreaterThan((await memory.stats()).journalBytes as number)
      sizes.add(size)
    }
    // 200 records of about 1.1 kB: the file grew in a few prepared chunks (64 KiB, then doubling;
    // the next one written beside the appends, so a size may be seen mid-chunk), not per record.
    expect(sizes.size).toBeLessThan(12)
    expect(Math.min(...sizes)).toBe(65_536)
    const journalBytes = (await memory.stats()).journalBytes as number
    // A chunk is at most the size of the file before it (and at most 1 MiB): the space prepared
    // ahead stays within a small multiple of the records.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3 * journalBytes + 65_536)
    await memory.close()
    const { size } = await stat(`${path}.journal`).catch(() => ({ size: 0 }))
    expect([0, journalBytes]).toContain(size)
    const again = await open({ path })
    expect((await again.history('a')).length).toBe(200)
    // A batched store's adds never wait for a write: its journal grows per record, with no
    // prepared space (which writes the journal's bytes twice).
    await again.add('a', { role: 'user', content: 'batched' })
    await again.flush()
    expect((await stat(`${path}.journal`)).size).toBe((await again.stats()).journalBytes)
  })

  it('links the .bak of a snapshot over 8 MB before the first save, then turns it into a copy of its own', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const text = 'x'.repeat(1000)
    const conversations = Object.fromEntries(
      Array.from({ length: 100 }, (_, c) => [
        `c${c}`,
        Array.from({ length: 100 }, (_, m) => ({
          role: 'user',
          content: `${m} ${text}`,
          timestamp: '2025-01-01T00:00:00',
        })),
      ]),
    )
    await writeFile(path, JSON.stringify({ conversations }, null, 2))
    const original = await readFile(path)
    expect(original.length).toBeGreaterThan(8 * 1024 * 1024)
    const memory = await open({ path, saveEvery: 1 })
    await memory.add('c0', { role: 'user', content: 'new' })
    await memory.flush()
    // First a hard link to the snapshot as it was (same inode), soon a copy (an inode of its own).
    await expect
      .poll(async () => (await stat(`${path}.bak`)).ino !== (await stat(path)).ino, { timeout: 10_000 })
      .toBe(true)
    await expect.poll(async () => (await stat(`${path}.bak`)).nlink, { timeout: 10_000 }).toBe(1)
    expect((await readFile(`${path}.bak`)).equals(original)).toBe(true)
    // An in-place write to the snapshot (as the Python bot does) no longer reaches the .bak.
    await memory.close()
    await writeFile(path, '{"conversations": {}}')
    expect((await readFile(`${path}.bak`)).equals(original)).toBe(true)
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([])
  })

  it('a .bak that is still a hard link to the snapshot: the next process links it again and leaves no temporary name', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const conversations = Object.fromEntries(
      Array.from({ length: 100 }, (_, c) => [
        `c${c}`,
        Array.from({ length: 100 }, (_, m) => ({ role: 'user', content: `${m} ${'x'.repeat(2000)}` })),
      ]),
    )
    // Over 16 MB: close() leaves the snapshot as it is (the journal keeps the new messages).
    await writeFile(path, JSON.stringify({ conversations }))
    // Closed before the background copy lands, the .bak stays a link to the snapshot. On a loaded
    // machine the copy can land first: that state is then made by hand, as the copy would not.
    const first = await open({ path, saveEvery: 1 })
    await first.add('c0', { role: 'user', content: 'one' })
    await first.flush()
    await first.close()
    if ((await stat(`${path}.bak`)).ino !== (await stat(path)).ino) {
      await rm(`${path}.bak`)
      await link(path, `${path}.bak`)
    }
    expect((await stat(`${path}.bak`)).ino).toBe((await stat(path)).ino)
    const second = await open({ path, saveEvery: 1 })
    await second.add('c0', { role: 'user', content: 'two' })
    await second.flush()
    await second.close()
    // rename() of a link over a link to the same file does nothing and leaves the temporary name.
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([])
  })

  it('says when a restore from .bak may miss data (the journal was restarted since the backup)', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const first = await openMemory({ path, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'in backup' })
    await first.close()
    const second = await open({
      backend: fileBackend({ path, compactionMinBytes: 256, compactionRatio: 0.1 }),
      saveEvery: 1,
    })
    for (let i = 0; i < 30; i++) {
      await second.add('a', { role: 'user', content: `after ${i}` })
      await second.flush()
    }
    for (let tries = 0; ((await second.stats()).compactions ?? 0) < 1 && tries < 500; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await second.add('a', { role: 'user', content: 'in journal' })
    await second.flush()
    // A crash: the journal was restarted by a compaction after this process made the .bak.
    await second.destroy()
    // A compaction may have run after the last add too; then the journal no longer holds it.
    const journalHasLast = (await readFile(`${path}.journal`, 'utf8')).includes('in journal')
    await writeFile(path, '{')
    const recovered: RecoveredInfo[] = []
    const fourth = await open({ path, onRecovered: (info) => recovered.push(info) })
    expect(recovered[0]?.dataMayBeMissing).toBe(true)
    expect(recovered[0]?.message).toMatch(/may be missing/)
    const contents = (await fourth.history('a')).map((m) => m.content)
    expect(contents[0]).toBe('in backup')
    if (journalHasLast) expect(contents[contents.length - 1]).toBe('in journal')
    expect(new Set(contents).size).toBe(contents.length)
  })

  it('makes the .bak once per process, on the first write, as a copy of the snapshot', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const first = await openMemory({ path, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'one' })
    await first.close()
    expect(existsSync(`${path}.bak`)).toBe(false)
    const snapshot = await readFile(path, 'utf8')
    const second = await open({ path, saveEvery: 1, backend: undefined })
    expect(existsSync(`${path}.bak`)).toBe(false)
    await second.add('a', { role: 'user', content: 'two' })
    await second.flush()
    expect(await readFile(`${path}.bak`, 'utf8')).toBe(snapshot)
    const bakTime = (await stat(`${path}.bak`)).mtimeMs
    await second.add('a', { role: 'user', content: 'three' })
    await second.flush()
    await second.close()
    expect((await stat(`${path}.bak`)).mtimeMs).toBe(bakTime)
    expect(await readFile(`${path}.bak`, 'utf8')).toBe(snapshot)
  })

  it('restores a damaged snapshot from .bak + journal, keeps the damaged file, emits recovered', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const first = await openMemory({ path, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'one' })
    await first.close()
    const second = await open({ path, saveEvery: 1 })
    await second.add('a', { role: 'user', content: 'two' })
    await second.flush()
    await second.destroy()
    await writeFile(path, '{"conversations": {"a": [{"role": "us')
    const recovered: RecoveredInfo[] = []
    const third = await open({ path, onRecovered: (info) => recovered.push(info) })
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.dataMayBeMissing).toBe(false)
    expect(recovered[0]?.keptAs).toMatch(/c\.json\.corrupt-/)
    expect((await third.history('a')).map((m) => m.content)).toEqual(['one', 'two'])
    const names = await readdir(dir)
    const corrupt = names.find((name) => name.startsWith('c.json.corrupt-'))
    expect(corrupt).toBeDefined()
    expect(await readFile(join(dir, corrupt as string), 'utf8')).toBe('{"conversations": {"a": [{"role": "us')
    // The restored state was written at once as the new snapshot.
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')).conversations)).toEqual(['a'])
  })

  it('refuses a damaged snapshot without .bak (code corrupt), changing nothing', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, 'not json')
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(/no backup/)
    expect(await readFile(path, 'utf8')).toBe('not json')
    expect(existsSync(`${path}.lock`)).toBe(false)
  })

  it('a second store on the same path in this process gets code locked', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await open({ path })
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await expect(attempt).rejects.toThrow(new RegExp(`in use by process ${process.pid}`))
  })

  it('takes over a stale lock left by a dead process', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const { spawnSync } = await import('node:child_process')
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    const deadPid = Number(child.stdout.trim())
    const { hostname } = await import('node:os')
    await writeFile(`${path}.lock`, JSON.stringify({ pid: deadPid, hostname: hostname(), since: 'then' }))
    const memory = await open({ path })
    await memory.add('a', { role: 'user', content: 'x' })
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
  })

  it('removes temp files left by a crashed compaction', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await mkdir(dir, { recursive: true })
    await writeFile(`${path}.tmp-123-abcd`, 'partial')
    await writeFile(`${path}.journal.tmp-123-abcd`, 'partial')
    await writeFile(`${path}.bak.12345`, 'partial')
    await open({ path })
    expect((await readdir(dir)).sort()).toEqual(['c.json.journal', 'c.json.lock'])
  })

  it('a store only read leaves its directory as it found it: the journal it created and the lock go', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, JSON.stringify({ conversations: { '1': [{ role: 'user', content: 'hi' }] } }))
    const before = await readdir(dir)
    const reader = await openMemory({ path, flushOnExit: false })
    // Open, the store holds its lock and journal as ever.
    expect((await readdir(dir)).sort()).toEqual(['c.json', 'c.json.journal', 'c.json.lock'])
    expect(await reader.history('1')).toHaveLength(1)
    await reader.close()
    expect(await readdir(dir)).toEqual(before)
    // destroy() too; a journal that was there before stays, even empty; one written to stays.
    await (await openMemory({ path, flushOnExit: false })).destroy()
    expect(await readdir(dir)).toEqual(before)
    await writeFile(`${path}.journal`, '')
    await (await openMemory({ path, flushOnExit: false })).close()
    expect((await readdir(dir)).sort()).toEqual(['c.json', 'c.json.journal'])
    await rm(`${path}.journal`)
    const writer = await openMemory({ path, flushOnExit: false })
    await writer.add('1', { role: 'user', content: 'more' })
    await writer.close()
    expect((await readdir(dir)).sort()).toEqual(['c.json', 'c.json.bak', 'c.json.journal'])
  })

  it('rejects bad fileBackend options', () => {
    expect(() => fileBackend({ path: '' })).toThrow(/path must be a non-empty string, got ""/)
    expect(() => fileBackend({ path: 'x', compactionRatio: 0 })).toThrow(RangeError)
    expect(() => fileBackend({ path: 'x', compactionMinBytes: -1 })).toThrow(/compactionMinBytes .*got -1/)
    expect(() => fileBackend({ path: 'x', other: 1 } as never)).toThrow(/unknown option "other"/)
    expect(() => fileBackend({ path: 'x', compactionWorker: 'yes' } as never)).toThrow(
      /compactionWorker must be a boolean, got "yes"/,
    )
    expect(() => fileBackend({ path: 'x', journalSync: 'fsync' } as never)).toThrow(
      /journalSync must be 'dsync' or 'fdatasync', got "fsync"/,
    )
  })

  it.each(['dsync', 'fdatasync'] as const)(
    'journalSync %s: every message of a batched and a strict store survives a reopen',
    async (journalSync) => {
      const dir = await fresh()
      const path = join(dir, 'c.json')
      for (const durability of ['batched', 'strict'] as const) {
        const memory = await openMemory({
          backend: fileBackend({ path, journalSync }),
          durability,
          flushOnExit: false,
        })
        for (let i = 0; i < 12; i++)
          await memory.add(durability, { role: 'user', content: `${durability} ${i}` })
        await memory.flush()
        // destroy() skips the final snapshot: what comes back is read from the journal.
        await memory.destroy()
      }
      const reopened = await openMemory({ path, flushOnExit: false })
      for (const durability of ['batched', 'strict'] as const) {
        const history = await reopened.history(durability, { limit: 100 })
        expect(history.map((m) => m.content)).toEqual(
          Array.from({ length: 12 }, (_, i) => `${durability} ${i}`),
        )
      }
      await reopened.close()
    },
  )

  it('clear and prune are journaled and survive a crash', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const memory = await open({ path, saveEvery: 1 })
    await memory.add('old', { role: 'user', content: 'x', timestamp: '2020-01-01T00:00:00' })
    await memory.add('gone', { role: 'user', content: 'y' })
    await memory.add('kept', { role: 'user', content: 'z' })
    await memory.flush()
    expect(await memory.clear('gone')).toBe(true)
    expect(await memory.prune({ olderThanDays: 1 })).toBe(1)
    await memory.destroy()
    const again = await open({ path })
    const ids: string[] = []
    for await (const summary of again.conversations()) ids.push(summary.id)
    expect(ids).toEqual(['kept'])
  })

  it('serves counts, listing and pruning of a loaded snapshot before its conversations are read', async () => {
    // Large enough that a conversation is parsed in groups when it is first read.
    const long = Array.from({ length: 400 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i} ${'è🙂'.repeat(50)}`,
      timestamp: `2025-01-01T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    }))
    const conversations = {
      old: [{ role: 'user', content: 'idle', timestamp: '2020-01-01T00:00:00' }],
      long,
      empty: [],
    }
    const dir = await fresh()
    const path = join(dir, 'loaded.json')
    await writeFile(path, JSON.stringify({ conversations, last_updated: '2025-01-01T11:00:00' }, null, 2))
    const memory = await open({ path })
    expect(await memory.stats()).toMatchObject({ conversations: 3, messages: 401 })
    const listed: Array<[string, number, string | undefined]> = []
    for await (const summary of memory.conversations())
      listed.push([summary.id, summary.messages, summary.lastTimestamp])
    expect(listed).toEqual([
      ['old', 1, '2020-01-01T00:00:00'],
      ['long', 400, long[399]?.timestamp],
      ['empty', 0, undefined],
    ])
    // The idle one only: an empty conversation has no newest message to date it.
    expect(await memory.prune({ olderThanDays: 1000 })).toBe(1)
    expect((await memory.history('long')).map(({ id, ...rest }) => rest)).toEqual(long)
    // Read twice: the same messages, each read its own copy.
    const first = await memory.history('long', { limit: 1 })
    ;(first[0] as { content: string }).content = 'changed by the caller'
    expect((await memory.history('long', { limit: 1 }))[0]?.content).toBe(long[399]?.content)
    await memory.close()
    const again = await open({ path })
    expect(await again.stats()).toMatchObject({ conversations: 2, messages: 400 })
    expect((await again.history('long')).map((m) => m.content)).toEqual(long.map((m) => m.content))
  })
})

describe('file backend, built package: compaction on a worker thread', () => {
  const built = fileURLToPath(new URL('../../../dist/index.js', import.meta.url))
  async function load(): Promise<typeof import('../../../src/index.js')> {
    expect(existsSync(built), 'build the package first (pnpm --filter @taurobot/memory build)').toBe(true)
    return (await import(pathToFileURL(built).href)) as typeof import('../../../src/index.js')
  }

  it('writes the snapshot while the main thread is blocked', async () => {
    const lib = await load()
    const path = join(await fresh(), 'c.json')
    const warnings: string[] = []
    const memory = await lib.openMemory({
      backend: lib.fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.5 }),
      saveEvery: 1,
      flushOnExit: false,
      onWarning: (message) => warnings.push(message),
    })
    stores.push(memory)
    await memory.add('a', { role: 'user', content: 'Ciao!' })
    await memory.flush()
    // The first write outgrows the empty snapshot: the compaction is handed to the worker. This
    // thread now never yields, so only another thread can create the snapshot file.
    await new Promise((resolve) => setImmediate(resolve))
    const until = Date.now() + 5_000
    while (!existsSync(path) && Date.now() < until) {}
    expect(existsSync(path)).toBe(true)
    expect(warnings).toEqual([])
  })

  it('writes on the main thread, with a warning, when the worker cannot start', async () => {
    // A real fault: the worker's file disappears after the backend found it (a deploy replacing
    // node_modules under a running bot). A copy of the build, so the real one stays intact; inside
    // the package, so its dependencies resolve as they do for the build.
    const copy = join(
      fileURLToPath(new URL('../../../.tmp/', import.meta.url)),
      `dist-${process.pid}-${Date.now()}`,
    )
    await cp(dirname(built), copy, { recursive: true })
    try {
      const lib = (await import(
        pathToFileURL(join(copy, 'index.js')).href
      )) as typeof import('../../../src/index.js')
      const path = join(await fresh(), 'c.json')
      const backend = lib.fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.5 })
      await rm(join(copy, 'compact-worker.js'))
      const warnings: string[] = []
      const memory = await lib.openMemory({
        backend,
        saveEvery: 1,
        flushOnExit: false,
        onWarning: (message) => warnings.push(message),
      })
      stores.push(memory)
      await memory.add('a', { role: 'user', content: 'uno' })
      await memory.flush()
      for (let tries = 0; ((await memory.stats()).compactions ?? 0) < 1 && tries < 500; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect((await memory.stats()).compactions).toBeGreaterThanOrEqual(1)
      expect(warnings.join('\n')).toMatch(
        /compaction worker thread is unavailable .* now written on the main thread/,
      )
      // The snapshot the main thread wrote holds the message, in the Python bot's format.
      const snapshot = JSON.parse(await readFile(path, 'utf8')) as {
        conversations: Record<string, unknown[]>
      }
      expect(snapshot.conversations.a).toHaveLength(1)
      await memory.add('a', { role: 'user', content: 'due' })
      await memory.close()
      const again = await open({ path })
      expect((await again.history('a')).map((m) => m.content)).toEqual(['uno', 'due'])
    } finally {
      await rm(copy, { recursive: true, force: true })
    }
  })

  it('writes the snapshot from memory when the files no longer hold what the store holds', async () => {
    const lib = await load()
    const path = join(await fresh(), 'c.json')
    const first = await lib.openMemory({ path, flushOnExit: false })
    await first.add('a', { role: 'user', content: 'uno' })
    await first.close()
    const warnings: string[] = []
    const memory = await lib.openMemory({
      backend: lib.fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.01 }),
      saveEvery: 1,
      flushOnExit: false,
      onWarning: (message) => warnings.push(message),
    })
    stores.push(memory)
    // Damaged behind the store's back: the worker cannot rebuild from it, the store still holds "uno".
    await writeFile(path, '{"conversations": {"a": [')
    await memory.add('a', { role: 'user', content: 'due' })
    await memory.flush()
    for (let tries = 0; ((await memory.stats()).compactions ?? 0) < 1 && tries < 500; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    // Seen before the worker starts: the damaged file is kept aside and the main thread writes.
    expect(warnings.join('\n')).toMatch(/was written by another program .* kept as ".*c\.json\.foreign-/)
    await memory.destroy()
    const again = await open({ path })
    expect((await again.history('a')).map((m) => m.content)).toEqual(['uno', 'due'])
  })

  it('rebuilds from the files exactly what the store holds: trimmed, cleared, pruned, extra fields', async () => {
    const lib = await load()
    const path = join(await fresh(), 'c.json')
    await writeFile(
      path,
      JSON.stringify({
        conversations: { '7': [{ role: 'user', content: 'vecchio', timestamp: '2020-01-01T00:00:00' }] },
        last_updated: '2020-01-01T00:00:00',
        owner: 'bot',
      }),
    )
    const warnings: string[] = []
    const memory = await lib.openMemory({
      backend: lib.fileBackend({ path, compactionMinBytes: 2048, compactionRatio: 0.5 }),
      saveEvery: 10,
      maxMessages: 7,
      flushOnExit: false,
      onWarning: (message) => warnings.push(message),
    })
    stores.push(memory)
    const compactions = async () => (await memory.stats()).compactions ?? 0
    let done = 0
    for (let round = 0; round < 4; round++) {
      for (let i = round * 100; i < (round + 1) * 100; i++) {
        await memory.add(`u${i % 5}`, { role: i % 2 === 0 ? 'user' : 'assistant', content: `è il ${i}` })
        if (i === 200) {
          await memory.clear('u3')
          expect(await memory.prune({ olderThanDays: 30 })).toBe(1)
        }
      }
      await memory.flush()
      // Each round outgrows the threshold: wait for its compaction (the first one starts the thread).
      for (let tries = 0; (await compactions()) === done && tries < 1000; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(await compactions()).toBeGreaterThan(done)
      done = await compactions()
    }
    const expected = new Map<string, string[]>()
    for await (const { id } of memory.conversations()) {
      expected.set(
        id,
        (await memory.history(id)).map((m) => m.content),
      )
    }
    expect([...expected.keys()].sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4'])
    expect(expected.get('u3')).toHaveLength(7)
    // No final compaction: what is read back is the worker's snapshot plus the journal's tail.
    await memory.destroy()
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as { owner?: string; conversations: object }
    expect(snapshot.owner).toBe('bot')
    expect(Object.keys(snapshot.conversations)).not.toContain('7')
    const again = await open({ path, maxMessages: 7 })
    for (const [id, contents] of expected) {
      expect((await again.history(id)).map((m) => m.content)).toEqual(contents)
    }
    expect(warnings).toEqual([])
  }, 30_000)
})

describe('file backend, built package: a worker compaction cut short by close()', () => {
  const built = fileURLToPath(new URL('../../../dist/index.js', import.meta.url))

  it('close() calls off a running worker compaction: every message once, no temp file left', async () => {
    expect(existsSync(built), 'build the package first (pnpm --filter @taurobot/memory build)').toBe(true)
    const lib = (await import(pathToFileURL(built).href)) as typeof import('../../../src/index.js')
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const expected = new Map<string, string[]>()
    const conversations: Record<string, Array<{ role: string; content: string; timestamp: string }>> = {}
    for (let u = 0; u < 40; u++) {
      const contents = Array.from({ length: 500 }, (_, i) => `${u}/${i} ${'è una storia lunga '.repeat(8)}`)
      expected.set(`u${u}`, contents)
      conversations[`u${u}`] = contents.map((content) => ({
        role: 'user',
        content,
        timestamp: '2026-01-01T00:00:00',
      }))
    }
    // About 10 MB: the worker is still reading or formatting it when close() is called.
    await writeFile(path, JSON.stringify({ conversations, last_updated: '2026-01-01T00:00:00' }, null, 2))
    const warnings: string[] = []
    const memory = await lib.openMemory({
      backend: lib.fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.000001 }),
      saveEvery: 1,
      flushOnExit: false,
      onWarning: (message) => warnings.push(message),
    })
    stores.push(memory)
    for (let i = 0; i < 3; i++) {
      await memory.add(`u${i}`, { role: 'assistant', content: `nuovo ${i}` })
      expected.get(`u${i}`)?.push(`nuovo ${i}`)
    }
    await memory.flush()
    expect((await memory.stats()).compactions).toBe(0)
    await memory.close()
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([])
    expect(warnings).toEqual([])
    // The snapshot close() wrote holds everything: its journal restarted empty.
    expect((await stat(`${path}.journal`)).size).toBe(0)
    const again = await open({ path })
    for (const [id, contents] of expected) {
      expect((await again.history(id)).map((m) => m.content)).toEqual(contents)
    }
  }, 30_000)
})

describe('compaction from the files: the claim', () => {
  it('renames only if the job was not called off first, and the loser leaves no file behind', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const before = JSON.stringify({
      conversations: { a: [{ role: 'user', content: 'uno' }] },
      last_updated: 'x',
    })
    await writeFile(path, before)
    await writeFile(`${path}.journal`, '')
    const job = { path, journalPath: `${path}.journal`, journalBytes: 0, seq: 0, maxMessages: 10 }
    const calledOff = new Int32Array(new SharedArrayBuffer(4))
    calledOff[0] = CLAIM_CALLED_OFF
    expect(() => compactFromDisk({ ...job, claim: calledOff })).toThrow(WriteCalledOffError)
    expect(await readFile(path, 'utf8')).toBe(before)
    expect((await readdir(dir)).sort()).toEqual(['c.json', 'c.json.journal'])
    const open = new Int32Array(new SharedArrayBuffer(4))
    expect(compactFromDisk({ ...job, claim: open })).toBeGreaterThan(0)
    expect(open[0]).toBe(CLAIM_COMMITTING)
    expect(await readFile(path, 'utf8')).not.toBe(before)
  })
})

describe('cleanup helper', () => {
  it('removes its directory', async () => {
    const { dir, cleanup } = await tempDir()
    await cleanup()
    expect(existsSync(dir)).toBe(false)
    await rm(dir, { force: true, recursive: true })
  })
})
