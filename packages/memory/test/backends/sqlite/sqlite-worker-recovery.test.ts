import { execFile } from 'node:child_process'
import { renameSync, writeFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import type { Memory, MemoryOptions } from '../../../src/index.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { ensureBuilt, fixture, tempDir } from '../../helpers.js'

const run = promisify(execFile)
const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))
const exitingWorker = pathToFileURL(fixture('exiting-write-worker.mjs'))
const cleanups: Array<() => Promise<void> | void> = []
const stores: Memory[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.destroy().catch(() => undefined)
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

async function open(
  path: string,
  store: Omit<MemoryOptions, 'backend'> = {},
  worker: URL = builtWorker,
): Promise<Memory> {
  const memory = await openMemory({
    // Every write on the worker (worker: 'auto' would commit the small ones on the main thread).
    backend: new SqliteBackend({ path, worker: true }, worker),
    flushOnExit: false,
    onError: () => undefined,
    ...store,
  })
  stores.push(memory)
  return memory
}

function contents(messages: Array<{ content: string }>): string[] {
  return messages.map((m) => m.content)
}

/** A database holding conversation 1 with `messages`, closed. */
async function seeded(messages: string[]): Promise<string> {
  const path = join(await fresh(), 'conversations.db')
  const first = await open(path, { maxMessages: 100 })
  for (const content of messages) await first.add(1, { role: 'user', content })
  await first.close()
  return path
}

/**
 * Replaces the database with a text file, as a restore or a deploy script caught half-way would,
 * and returns what puts it back. Called as soon as the store's open resolved: the write worker
 * takes tens of milliseconds to start, so its connection then opens the text file and fails
 * (SQLITE_NOTADB), while the store's reading connection keeps the real file open.
 */
function replaceDatabase(path: string): () => Promise<void> {
  // Synchronously, within the task that saw the open resolve, well before the thread is up.
  renameSync(path, `${path}.aside`)
  writeFileSync(path, 'not a database\n'.repeat(300))
  return () => rename(`${path}.aside`, path)
}

describe("the write worker's open fails", () => {
  it('strict: the write rejects with the cause, and once it is gone the next write works', async () => {
    const path = await seeded(['a', 'b', 'c', 'd', 'e'])
    const warnings: string[] = []
    const memory = await open(path, { durability: 'strict', maxMessages: 3 })
    memory.on('warning', (warning) => warnings.push(warning))
    const putBack = replaceDatabase(path)
    const refused = memory.add(1, { role: 'user', content: 'refused' })
    await expect(refused).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(refused).rejects.toThrow(
      /cannot write 1 message: ".*conversations\.db" is not a usable SQLite database \(SQLITE_NOTADB.*Restore it from a backup/,
    )
    // Not only the first: every write before the cause is gone fails with it.
    await expect(memory.clear(2)).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    expect(warnings).toEqual([])
    await putBack()
    await memory.add(1, { role: 'user', content: 'f' })
    // The over-limit check of the open that failed is made by the one that succeeded, before
    // its first write trimmed the conversation, and reported once.
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /1 conversation holds more than maxMessages \(3\) messages, the longest "1" with 5/,
    )
    await memory.add(1, { role: 'user', content: 'g' })
    expect(warnings).toHaveLength(1)
    expect(contents(await memory.history(1))).toEqual(['e', 'f', 'g'])
    expect(await memory.prune({ olderThanDays: 1 })).toBe(0)
  })

  it('batched: flush rejects, every message stays pending, and the retry writes each once', async () => {
    const path = await seeded(['a'])
    const memory = await open(path, { saveEvery: 1000 })
    const putBack = replaceDatabase(path)
    for (let i = 0; i < 5; i++) await memory.add(1, { role: 'user', content: `m${i}` })
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await memory.add(1, { role: 'user', content: 'm5' })
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    expect((await memory.stats()).pending).toBe(6)
    await putBack()
    await memory.flush()
    expect((await memory.stats()).pending).toBe(0)
    await memory.close()
    const again = await open(path)
    expect(contents(await again.history(1))).toEqual(['a', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5'])
  })

  it.each([
    ['after close()', true],
    ['without close()', false],
  ])(
    'leaves no thread holding the process: it exits on its own %s',
    async (_, close) => {
      const index = ensureBuilt('index.js')
      const sqlite = ensureBuilt('sqlite.js')
      const path = await seeded(['a'])
      const script = [
        "import { renameSync, writeFileSync } from 'node:fs'",
        `const { openMemory } = await import(${JSON.stringify(index)})`,
        `const { sqliteBackend } = await import(${JSON.stringify(sqlite)})`,
        `const path = ${JSON.stringify(path)}`,
        "const memory = await openMemory({ backend: sqliteBackend({ path }), durability: 'strict', flushOnExit: false })",
        "renameSync(path, path + '.aside')",
        "writeFileSync(path, 'not a database\\n'.repeat(300))",
        "await memory.add(1, { role: 'user', content: 'x' }).then(() => console.log('written'), (e) => console.log(e.code))",
        close ? 'await memory.close()' : '',
        "console.log('done')",
      ].join('\n')
      // A thread or handle left behind would hold the process until the timeout kills it.
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        timeout: 20_000,
      })
      expect(stdout.trim().split('\n')).toEqual(['corrupt', 'done'])
    },
    30_000,
  )
})

describe('the write worker dies', () => {
  it('no file descriptor left as it starts (a real EMFILE): the write rejects, the next one works', async () => {
    const index = ensureBuilt('index.js')
    const sqlite = ensureBuilt('sqlite.js')
    const path = join(await fresh(), 'conversations.db')
    // Every descriptor the process may have is taken right after open, before the thread has
    // loaded its module; given back once the first write failed.
    const script = [
      "import { closeSync, openSync } from 'node:fs'",
      `const { openMemory } = await import(${JSON.stringify(index)})`,
      `const { sqliteBackend } = await import(${JSON.stringify(sqlite)})`,
      `const memory = await openMemory({ backend: sqliteBackend({ path: ${JSON.stringify(path)} }), durability: 'strict', flushOnExit: false })`,
      'const taken = []',
      "try { for (;;) taken.push(openSync('/dev/null', 'r')) } catch {}",
      "const report = (p) => p.then(() => 'written', (e) => e.code + ': ' + e.message)",
      "const first = await report(memory.add(1, { role: 'user', content: 'a' }))",
      'for (const fd of taken) closeSync(fd)',
      'console.log(first)',
      "console.log(await report(memory.add(1, { role: 'user', content: 'b' })))",
      'console.log(JSON.stringify((await memory.history(1)).map((m) => m.content)))',
      'await memory.close()',
    ].join('\n')
    const { stdout } = await run(
      'sh',
      ['-c', 'ulimit -n 256 && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      { timeout: 20_000 },
    )
    const [first, second, history] = stdout.trim().split('\n')
    expect(second).toBe('written')
    expect(history).toBe('["b"]')
    expect(first).toMatch(
      // The thread fails to start, or to load its module, or its connection cannot open a file.
      /^io: .*cannot write 1 message: .*(the SQLite write worker stopped: .*EMFILE.*The next write starts a new worker|SQLITE_CANTOPEN)/,
    )
  }, 30_000)

  it('strict: the write in flight rejects saying so, and the next write starts a new worker', async () => {
    const path = join(await fresh(), 'conversations.db')
    const memory = await open(path, { durability: 'strict' }, exitingWorker)
    await memory.add(1, { role: 'user', content: 'a' })
    await writeFile(`${path}.exit-at-append`, '')
    const lost = memory.add(1, { role: 'user', content: 'lost' })
    await expect(lost).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(lost).rejects.toThrow(
      /cannot write 1 message: .*the SQLite write worker stopped: it exited with code 7\. The next write starts a new worker/,
    )
    await memory.add(1, { role: 'user', content: 'b' })
    await memory.clear(2)
    expect(contents(await memory.history(1))).toEqual(['a', 'b'])
  })

  it('while it opens: the first write rejects, the next one works', async () => {
    const path = await seeded(['a'])
    await writeFile(`${path}.exit-at-open`, '')
    const memory = await open(path, { durability: 'strict' }, exitingWorker)
    await expect(memory.add(1, { role: 'user', content: 'lost' })).rejects.toThrow(
      /the SQLite write worker stopped: .*exited with code 7/,
    )
    await memory.add(1, { role: 'user', content: 'b' })
    expect(contents(await memory.history(1))).toEqual(['a', 'b'])
  })

  it('a write sent as the dying thread reported its error goes to the new thread', async () => {
    const path = join(await fresh(), 'conversations.db')
    const memory = await open(path, { durability: 'strict' }, exitingWorker)
    await memory.add(1, { role: 'user', content: 'a' })
    await writeFile(`${path}.throw-at-append`, '')
    // The thread reports its error, then exits: a write made in between, as soon as the failed
    // one rejected, must not be failed by the old thread's exit.
    const retried = await memory.add(1, { role: 'user', content: 'lost' }).then(
      () => undefined,
      (error: unknown) => ({ error, retry: memory.add(1, { role: 'user', content: 'b' }) }),
    )
    expect(retried?.error).toSatisfy((error) => isMemoryError(error, 'io'))
    expect(String(retried?.error)).toMatch(
      /the SQLite write worker stopped: a test made the write worker throw/,
    )
    await retried?.retry
    expect(contents(await memory.history(1))).toEqual(['a', 'b'])
  })

  it('batched: the batch stays pending and the retry writes it once', async () => {
    const path = join(await fresh(), 'conversations.db')
    const memory = await open(path, { saveEvery: 1000 }, exitingWorker)
    await memory.add(1, { role: 'user', content: 'a' })
    await memory.flush()
    await writeFile(`${path}.exit-at-append`, '')
    for (let i = 0; i < 3; i++) await memory.add(1, { role: 'user', content: `m${i}` })
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    expect((await memory.stats()).pending).toBe(3)
    await memory.flush()
    await memory.close()
    const again = await open(path)
    expect(contents(await again.history(1))).toEqual(['a', 'm0', 'm1', 'm2'])
  })
})
