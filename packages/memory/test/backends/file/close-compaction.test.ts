import { execFile } from 'node:child_process'
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { compactFromDisk } from '../../../src/backends/file/compaction.js'
import { runCompact } from '../../../src/compact.js'
import { fileBackend } from '../../../src/index.js'
import { ensureBuilt, journalText, testScratch } from '../../helpers.js'

const run = promisify(execFile)
// Tests that write and read snapshots of 16 MiB and more: seconds of disk I/O on a busy machine.
const LARGE_STORE_MS = 60_000
const { fresh, open } = testScratch()

/** A Python-format snapshot of about `megabytes` MB: 50 conversations of 1 KB messages. */
async function writeSnapshot(path: string, megabytes: number): Promise<number> {
  const perConversation = Math.ceil((megabytes * 1024) / 50)
  const conversations: Record<string, unknown> = {}
  for (let c = 0; c < 50; c++) {
    conversations[`u${c}`] = Array.from({ length: perConversation }, (_, m) => ({
      role: 'user',
      content: `${m} ${'x'.repeat(950)}`,
      timestamp: '2026-12-04T10:00:00',
    }))
  }
  await writeFile(path, JSON.stringify({ conversations, last_updated: 'x' }, null, 2))
  return 50 * perConversation
}

function snapshotText(path: string): Promise<string> {
  return readFile(path, 'utf8')
}

describe('compactOnClose', () => {
  it('accepts only "always" or "auto"', () => {
    expect(() => fileBackend({ path: 'x.json', compactOnClose: 'never' as never })).toThrow(
      /compactOnClose must be 'always' or 'auto', got "never"/,
    )
  })

  it('"auto" (the default) completes a small snapshot at close', async () => {
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({ path })
    await memory.add('a', { role: 'user', content: 'hello' })
    await memory.close()
    expect(JSON.parse(await snapshotText(path)).conversations.a[0].content).toBe('hello')
    expect((await stat(`${path}.journal`)).size).toBe(0)
  })

  it(
    '"auto" leaves a snapshot over 16 MiB as it is: the journal keeps the new messages for the next open',
    async () => {
      const path = join(await fresh(), 'conversations.json')
      const count = await writeSnapshot(path, 18)
      const before = await snapshotText(path)
      const memory = await open({ path })
      for (let i = 0; i < 100; i++) await memory.add('new', { role: 'user', content: `n${i}` })
      await memory.close()
      expect(await snapshotText(path)).toBe(before)
      expect((await stat(`${path}.journal`)).size).toBeGreaterThan(0)
      const again = await open({ path })
      expect(await again.stats()).toMatchObject({ messages: count + 100 })
      expect((await again.history('new')).map((m) => m.content)).toEqual(
        Array.from({ length: 100 }, (_, i) => `n${i}`),
      )
    },
    LARGE_STORE_MS,
  )

  it(
    '"always" rewrites a large snapshot at close, so it alone holds every message',
    async () => {
      const path = join(await fresh(), 'conversations.json')
      const count = await writeSnapshot(path, 18)
      const memory = await open({ backend: fileBackend({ path, compactOnClose: 'always' }) })
      await memory.add('new', { role: 'user', content: 'kept in the snapshot' })
      await memory.close()
      const data = JSON.parse(await snapshotText(path))
      expect(data.conversations.new[0].content).toBe('kept in the snapshot')
      expect(Object.values(data.conversations as Record<string, unknown[]>).flat()).toHaveLength(count + 1)
      expect((await stat(`${path}.journal`)).size).toBe(0)
    },
    LARGE_STORE_MS,
  )
  it(
    '"auto" compacts at close a journal past compactionRatio × the snapshot, which a process that closed early left behind',
    async () => {
      const path = join(await fresh(), 'conversations.json')
      const count = await writeSnapshot(path, 18)
      const snapshotBytes = (await stat(path)).size
      // A ratio too high to compact: the journal keeps about 2 MB after close, as it would after a
      // process that closed before its background compaction renamed.
      const first = await open({ backend: fileBackend({ path, compactionRatio: 100 }) })
      for (let i = 0; i < 2000; i++) first.add('new', { role: 'user', content: `${i} ${'y'.repeat(1000)}` })
      await first.close()
      const left = (await stat(`${path}.journal`)).size
      expect(left).toBeGreaterThan(0.1 * snapshotBytes)
      // Opened and closed with a ratio the journal is past: close() brings it back under it.
      const second = await open({ backend: fileBackend({ path, compactionRatio: 0.1 }) })
      await second.close()
      expect((await stat(`${path}.journal`)).size).toBeLessThanOrEqual(
        0.1 * (await stat(path).then((s) => s.size)),
      )
      const data = JSON.parse(await snapshotText(path))
      expect(Object.values(data.conversations as Record<string, unknown[]>).flat()).toHaveLength(count + 1000)
    },
    LARGE_STORE_MS,
  )

  it('"always" trims a file opened with a smaller maxMessages only when the journal holds records, which compact --max-messages does not need', async () => {
    const dir = await fresh()
    const messages = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `old${i}` }))
    const lengths = async (path: string) =>
      Object.fromEntries(
        Object.entries(JSON.parse(await snapshotText(path)).conversations as Record<string, unknown[]>).map(
          ([id, list]) => [id, list.length],
        ),
      )
    const untouched = join(dir, 'untouched.json')
    const written = join(dir, 'written.json')
    for (const path of [untouched, written]) {
      await writeFile(path, JSON.stringify({ conversations: { a: messages } }))
      const memory = await open({
        backend: fileBackend({ path, compactOnClose: 'always' }),
        maxMessages: 2,
        onWarning: () => {},
      })
      if (path === written) await memory.add('b', { role: 'user', content: 'new' })
      await memory.close()
    }
    expect(await lengths(untouched)).toEqual({ a: 5 })
    expect(await lengths(written)).toEqual({ a: 2, b: 1 })
    await runCompact(untouched, undefined, 2)
    expect(await lengths(untouched)).toEqual({ a: 2 })
  })
})

describe('taurobot-memory compact', () => {
  it('writes the journal into the snapshot, keeping every message whatever maxMessages was', async () => {
    const path = join(await fresh(), 'conversations.json')
    const count = await writeSnapshot(path, 18)
    const memory = await open({ path, maxMessages: 5000 })
    for (let i = 0; i < 1500; i++) memory.add('long', { role: 'user', content: `m${i}` })
    await memory.close()
    expect((await stat(`${path}.journal`)).size).toBeGreaterThan(0)

    const cli = ensureBuilt('cli.js')
    const { stdout } = await run(process.execPath, [cli, 'compact', path])
    expect(stdout).toContain(`${count + 1500} messages, all in the snapshot`)
    const data = JSON.parse(await snapshotText(path))
    expect(data.conversations.long).toHaveLength(1500)
    expect(data.last_updated).toEqual(expect.any(String))
    expect((await stat(`${path}.journal`)).size).toBe(0)
  }, 60_000)

  it('takes a file: URL, as migrate and openMemory do', async () => {
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({ path })
    await memory.add('only', { role: 'user', content: 'hello' })
    await memory.close()
    const cli = ensureBuilt('cli.js')
    const { stdout } = await run(process.execPath, [cli, 'compact', pathToFileURL(path).href])
    expect(stdout).toBe(`compacted ${path}: 1 conversation, 1 message, all in the snapshot\n`)
  }, 30_000)

  it('counts one conversation and one message in the singular', async () => {
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({ path })
    await memory.add('only', { role: 'user', content: 'hello' })
    await memory.close()
    expect(await runCompact(path)).toBe(`compacted ${path}: 1 conversation, 1 message, all in the snapshot`)
  })

  it("prints the store's warnings, such as a torn journal tail it dropped, on stderr", async () => {
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({ path })
    for (let i = 0; i < 3; i++) await memory.add('a', { role: 'user', content: `m${i}` })
    await memory.flush()
    await memory.destroy()
    // A write cut short by a crash: bytes with no record end.
    await appendFile(`${path}.journal`, 'partial-record-without-end')
    const cli = ensureBuilt('cli.js')
    const { stdout, stderr } = await run(process.execPath, [cli, 'compact', path])
    expect(stdout).toContain('1 conversation, 3 messages, all in the snapshot')
    expect(stderr).toMatch(
      /^taurobot-memory: warning: dropped an unterminated final record \(26 bytes\) at the end of ".*conversations\.json\.journal"/,
    )
  }, 30_000)

  it('prints what open recovered from a damaged journal as its own warning, not as a Node process warning', async () => {
    const path = join(await fresh(), 'conversations.json')
    const memory = await open({ path })
    for (let i = 0; i < 3; i++) {
      await memory.add('a', { role: 'user', content: `m${i}` })
      await memory.flush()
    }
    await memory.destroy()
    // A complete line that is not a record, between intact ones: damage, not a torn write.
    const lines = (await journalText(`${path}.journal`)).split('\n')
    lines.splice(1, 0, '{"s":"not a record"}')
    await writeFile(`${path}.journal`, lines.join('\n'))
    const cli = ensureBuilt('cli.js')
    const { stdout, stderr } = await run(process.execPath, [cli, 'compact', path])
    expect(stdout).toContain('1 conversation, 3 messages, all in the snapshot')
    expect(stderr).toMatch(
      /^taurobot-memory: warning: journal ".*conversations\.json\.journal" holds 1 damaged record/,
    )
    expect(stderr).not.toMatch(/TAUROBOT_MEMORY|trace-warnings/)
  }, 30_000)

  it('refuses a missing file as a bad argument (exit 2), as migrate refuses a missing <from>, and creates nothing', async () => {
    const cli = ensureBuilt('cli.js')
    const dir = await fresh()
    const missing = join(dir, 'none.json')
    await expect(run(process.execPath, [cli, 'compact', missing])).rejects.toMatchObject({
      code: 2,
      stderr: `taurobot-memory: no conversations file at ${missing}\nRun \`taurobot-memory --help\` for the usage.\n`,
    })
    expect(await readdir(dir)).toEqual([])
  }, 30_000)

  it('fails with the usage on bad arguments', async () => {
    const cli = ensureBuilt('cli.js')
    const missing = join(await fresh(), 'none.json')
    await expect(run(process.execPath, [cli, 'compact'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('compact needs exactly one argument'),
    })
    for (const [args, said] of [
      [['--max-messages', '0', missing], '--max-messages must be a positive integer, got 0'],
      [['--max-message', '5', missing], 'unknown option --max-message: did you mean --max-messages?'],
      [[missing, 'other.json'], 'compact needs exactly one argument'],
    ] as const) {
      await expect(run(process.execPath, [cli, 'compact', ...args])).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining(said),
      })
    }
  }, 30_000)

  it('--max-messages n keeps the newest n of each conversation, as a store with maxMessages n shows them', async () => {
    const path = join(await fresh(), 'conversations.json')
    const messages = Array.from({ length: 5 }, (_, i) => ({
      role: 'user',
      content: `old${i}`,
      timestamp: '2026-12-04T10:00:00',
    }))
    await writeFile(path, JSON.stringify({ conversations: { a: messages, b: messages.slice(0, 2) } }))
    // A store with maxMessages 5 adds 2 to a conversation of 5: history() shows old2..old4, new0, new1.
    const memory = await open({ path, maxMessages: 5 })
    for (let i = 0; i < 2; i++) await memory.add('a', { role: 'user', content: `new${i}` })
    const shown = (await memory.history('a')).map((m) => m.content)
    // Left in the journal: close() would complete a snapshot this small itself.
    await memory.flush()
    await memory.destroy()
    const cli = ensureBuilt('cli.js')
    const { stdout } = await run(process.execPath, [cli, 'compact', path, '--max-messages', '5'])
    expect(stdout).toContain('2 conversations, 7 messages, all in the snapshot')
    const data = JSON.parse(await snapshotText(path))
    expect(data.conversations.a.map((m: { content: string }) => m.content)).toEqual(shown)
    expect(data.conversations.b).toHaveLength(2)
  }, 30_000)

  it('--max-messages n trims a snapshot whose journal is empty, such as a Python bot file', async () => {
    const path = join(await fresh(), 'conversations.json')
    const messages = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `old${i}` }))
    await writeFile(path, JSON.stringify({ conversations: { a: messages, b: messages.slice(0, 2) } }))
    expect(await runCompact(path, undefined, 3)).toBe(
      `compacted ${path}: 2 conversations, 5 messages, all in the snapshot`,
    )
    const data = JSON.parse(await snapshotText(path))
    expect(data.conversations.a.map((m: { content: string }) => m.content)).toEqual(['old2', 'old3', 'old4'])
    expect(data.conversations.b).toHaveLength(2)
  })

  it('--max-messages n says what it dropped from the file, naming --max-messages and the .bak that keeps them', async () => {
    const path = join(await fresh(), 'conversations.json')
    const messages = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `old${i}` }))
    const before = JSON.stringify({ conversations: { a: messages, b: messages.slice(0, 2) } })
    await writeFile(path, before)
    const cli = ensureBuilt('cli.js')
    const { stdout, stderr } = await run(process.execPath, [cli, 'compact', path, '--max-messages', '1'])
    expect(stdout).toBe(`compacted ${path}: 2 conversations, 2 messages, all in the snapshot\n`)
    expect(stderr).toBe(
      `taurobot-memory: warning: ${JSON.stringify(path)}: 2 conversations held more messages than --max-messages 1, the longest "a" with 5. ` +
        'compact kept the newest 1 of each and dropped the older ones from the file; ' +
        `the snapshot as it was is kept in ${JSON.stringify(`${path}.bak`)}. Without --max-messages, compact keeps every message.\n`,
    )
    expect(
      JSON.parse(await snapshotText(path)).conversations.a.map((m: { content: string }) => m.content),
    ).toEqual(['old4'])
    expect(await readFile(`${path}.bak`, 'utf8')).toBe(before)
  }, 30_000)
})

describe('the compaction worker reads a snapshot in pieces too', () => {
  it(
    'rebuilds a snapshot larger than one read piece (16 MiB)',
    async () => {
      const path = join(await fresh(), 'conversations.json')
      const count = await writeSnapshot(path, 20)
      const journalPath = `${path}.journal`
      await writeFile(
        journalPath,
        `${JSON.stringify({ s: 1, a: [['u0', [{ role: 'user', content: 'last', timestamp: '2026-01-01T00:00:00.000Z' }]]] })}\n`,
      )
      const journalBytes = (await stat(journalPath)).size
      compactFromDisk({ path, journalPath, journalBytes, seq: 1, maxMessages: 1_000_000 })
      const data = JSON.parse(await snapshotText(path))
      expect(data.taurobot_memory).toEqual({ seq: 1 })
      expect(data.conversations.u0.at(-1).content).toBe('last')
      expect(Object.values(data.conversations as Record<string, unknown[]>).flat()).toHaveLength(count + 1)
    },
    LARGE_STORE_MS,
  )
})
