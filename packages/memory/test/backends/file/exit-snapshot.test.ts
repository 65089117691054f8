// A script that ends without close(): the beforeExit flush completes the snapshot as close() would,
// so the Python bot (which reads the snapshot alone) sees the messages. Run as real child processes
// against the built package.
import { execFileSync, spawn } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openMemory } from '../../../src/index.js'
import {
  ensureBuilt,
  fixture,
  journalText,
  mountTmpfs,
  mountUnavailable,
  testScratch,
} from '../../helpers.js'

const { cleanups, fresh, open } = testScratch()
const script = fixture('forgetful.mjs')
ensureBuilt('index.js')

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  pid: number
  /** How often beforeExit fired before the process exited. */
  beforeExit: number
  stderr: string
}

interface ForgetfulOptions {
  count?: number
  content?: string
  durability?: 'batched' | 'strict'
  compactOnClose?: 'always' | 'auto'
  compactionMinBytes?: number
  compactionRatio?: number
  late?: string
}

/** Runs the fixture, which adds messages and ends without close(); resolves once it exited. */
function forgetful(path: string, options: ForgetfulOptions = {}): Promise<Ended> {
  const child = spawn(process.execPath, [script, path, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString()
  })
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  // A script that does not exit is the failure this guards against: kill it, say so.
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(deadline)
      resolve({
        code,
        signal,
        pid: Number(/ready (\d+)/.exec(stdout)?.[1]),
        beforeExit: Number(/beforeExit (\d+)/.exec(stdout)?.[1]),
        stderr,
      })
    }),
  )
}

/**
 * The conversations as the Python bot reads them (`json.load(f)["conversations"]`), each as the
 * first 40 characters of its messages' contents.
 */
function readByPython(path: string): Record<string, string[]> {
  const code = [
    'import json, sys',
    'with open(sys.argv[1], encoding="utf-8") as f:',
    '    conversations = json.load(f)["conversations"]',
    'print(json.dumps({k: [m["content"][:40] for m in v] for k, v in conversations.items()}))',
  ].join('\n')
  return JSON.parse(execFileSync('python3', ['-c', code, path], { encoding: 'utf8' }))
}

function contents(messages: Array<{ content: string }> | string[] | undefined): string[] {
  return (messages ?? []).map((m) => (typeof m === 'string' ? m : m.content))
}

// Each test starts Node processes, which take a second or more on a busy machine.
describe('a script that ends without close()', { timeout: 60_000 }, () => {
  it('leaves a complete snapshot the Python bot reads; the lock it leaves is taken over', async () => {
    const path = join(await fresh(), 'memory', 'conversations.json')
    const ended = await forgetful(path)
    expect(ended).toMatchObject({ code: 0, signal: null })
    expect(contents(readByPython(path)['42'])).toEqual(['hi 0'])
    expect((await stat(`${path}.journal`)).size).toBe(0)
    // Neither loops nor waits: one beforeExit that writes, one that finds nothing to do.
    expect(ended.beforeExit).toBe(2)
    // The store was not closed: its lock names the exited process, and the next open takes it over.
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(ended.pid)
    const memory = await open({ path })
    expect(contents(await memory.history('42'))).toEqual(['hi 0'])
    await memory.close()
  })

  it('strict: messages already in the journal reach the snapshot too', async () => {
    const path = join(await fresh(), 'conversations.json')
    const ended = await forgetful(path, { durability: 'strict', count: 3 })
    expect(ended.code).toBe(0)
    expect(contents(readByPython(path)['42'])).toEqual(['hi 0', 'hi 1', 'hi 2'])
    expect((await stat(`${path}.journal`)).size).toBe(0)
  })

  it('replaces a stale snapshot, and a second run adds to it', async () => {
    const path = join(await fresh(), 'conversations.json')
    const first = await openMemory({ path, flushOnExit: false })
    await first.add('42', { role: 'user', content: 'closed properly' })
    await first.close()
    expect((await forgetful(path)).code).toBe(0)
    expect(contents(readByPython(path)['42'])).toEqual(['closed properly', 'hi 0'])
    expect((await forgetful(path, { content: 'again' })).code).toBe(0)
    expect(contents(readByPython(path)['42'])).toEqual(['closed properly', 'hi 0', 'again 0'])
  })

  it('the store stays usable after beforeExit: work scheduled then is written and in the snapshot', async () => {
    const path = join(await fresh(), 'conversations.json')
    const ended = await forgetful(path, { late: 'after beforeExit' })
    expect(ended.code).toBe(0)
    expect(contents(readByPython(path)['42'])).toEqual(['hi 0', 'after beforeExit'])
    expect(ended.beforeExit).toBe(3)
  })

  it('a background compaction running at exit finishes, then the snapshot is completed', async () => {
    // Every strict add starts a compaction on the worker thread when none is running, so one is
    // usually in flight when the loop empties; the worker does not keep the process alive alone.
    for (let run = 0; run < 3; run++) {
      const path = join(await fresh(), 'conversations.json')
      const ended = await forgetful(path, {
        durability: 'strict',
        count: 200,
        compactionMinBytes: 0,
        compactionRatio: 0.01,
      })
      expect(ended).toMatchObject({ code: 0, signal: null })
      expect(contents(readByPython(path)['42'])).toHaveLength(200)
      expect((await stat(`${path}.journal`)).size).toBe(0)
    }
  })

  it('a store past the compaction threshold (its worker started at open) still lets the script exit', async () => {
    const path = join(await fresh(), 'conversations.json')
    const ended = await forgetful(path, { compactionMinBytes: 0 })
    expect(ended).toMatchObject({ code: 0, signal: null })
    expect(contents(readByPython(path)['42'])).toEqual(['hi 0'])
  })

  describe('a store over 16 MiB', () => {
    /** A snapshot as the Python bot writes it, of about 17 MiB. */
    async function large(path: string): Promise<void> {
      const conversations: Record<string, unknown[]> = {}
      for (let i = 0; i < 170; i++) {
        conversations[`c${i}`] = [
          { role: 'user', content: 'x'.repeat(100_000), timestamp: '2026-01-01T00:00:00' },
        ]
      }
      await writeFile(path, JSON.stringify({ conversations }))
    }

    it("compactOnClose 'auto': the messages stay in the journal, as close() leaves them", async () => {
      const path = join(await fresh(), 'conversations.json')
      await large(path)
      const before = await stat(path)
      expect(before.size).toBeGreaterThan(16 * 1024 * 1024)
      expect((await forgetful(path)).code).toBe(0)
      const after = await stat(path)
      expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs])
      expect((await journalText(`${path}.journal`)).split('\n').filter(Boolean)).toHaveLength(1)
      const memory = await open({ path })
      expect(contents(await memory.history('42'))).toEqual(['hi 0'])
    })

    it("compactOnClose 'always': the snapshot is completed", async () => {
      const path = join(await fresh(), 'conversations.json')
      await large(path)
      expect((await forgetful(path, { compactOnClose: 'always' })).code).toBe(0)
      const conversations = readByPython(path)
      expect(contents(conversations['42'])).toEqual(['hi 0'])
      expect(Object.keys(conversations)).toHaveLength(171)
      expect((await stat(`${path}.journal`)).size).toBe(0)
    })
  })

  describe.skipIf(mountUnavailable() !== undefined)('on a full disk', () => {
    it('a rewrite that fails at exit is warned about, not retried in a loop; the journal keeps the messages', async () => {
      const { mountPoint, unmount } = await mountTmpfs(await fresh(), 64)
      cleanups.push(unmount)
      const path = join(mountPoint, 'conversations.json')
      // The journal record fits; the snapshot of the same messages beside it does not.
      const ended = await forgetful(path, { count: 35, content: 'x'.repeat(1000) })
      expect(ended).toMatchObject({ code: 0, signal: null })
      expect(ended.stderr).toMatch(/cannot write snapshot .*ENOSPC.*not completed at exit/)
      expect(ended.beforeExit).toBe(2)
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
      const memory = await open({ path })
      expect(await memory.history('42')).toHaveLength(35)
    })
  })
})
