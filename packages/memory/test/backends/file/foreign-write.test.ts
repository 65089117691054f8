import { execFileSync, spawnSync } from 'node:child_process'
import { statSync, writeFileSync } from 'node:fs'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { compactFromDisk, ForeignSnapshotError } from '../../../src/backends/file/compaction.js'
import { identityOf } from '../../../src/backends/file/snapshot-identity.js'
import { fileBackend, type Memory } from '../../../src/index.js'
import { ensureBuilt, testScratch } from '../../helpers.js'

const { fresh, open } = testScratch()

const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0

// What the Python bot does to the file: load it, change it, dump it back in place.
const PYTHON_BOT = `
import json, sys
path = sys.argv[1]
with open(path) as f:
    data = json.load(f)
data["conversations"]["1"].append({"role": "assistant", "content": "from python", "timestamp": "2026-01-01T00:00:01Z"})
data["conversations"]["2"] = [{"role": "user", "content": "new in python", "timestamp": "2026-01-01T00:00:02Z"}]
with open(path, "w") as f:
    json.dump(data, f, indent=2, ensure_ascii=False)
`

/** Changes the snapshot as the Python bot would: with python3 when there is one, else from here. */
async function foreignWrite(path: string): Promise<void> {
  if (HAS_PYTHON) {
    execFileSync('python3', ['-c', PYTHON_BOT, path])
    return
  }
  const data = JSON.parse(await readFile(path, 'utf8'))
  data.conversations['1'].push({
    role: 'assistant',
    content: 'from python',
    timestamp: '2026-01-01T00:00:01Z',
  })
  data.conversations['2'] = [{ role: 'user', content: 'new in python', timestamp: '2026-01-01T00:00:02Z' }]
  await writeFile(path, JSON.stringify(data, null, 2))
}

/** Waits until the store has rewritten its snapshot `count` times. */
async function compactions(memory: Memory, count: number): Promise<void> {
  for (let tries = 0; ((await memory.stats()).compactions ?? 0) < count && tries < 500; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  expect((await memory.stats()).compactions).toBeGreaterThanOrEqual(count)
}

async function pythonBotFile(dir: string): Promise<string> {
  const path = join(dir, 'c.json')
  await writeFile(
    path,
    JSON.stringify({
      conversations: { '1': [{ role: 'user', content: 'hello', timestamp: '2026-01-01T00:00:00Z' }] },
      last_updated: '2026-01-01T00:00:00Z',
    }),
  )
  return path
}

describe('file backend: the snapshot written by another program while the store has it open', () => {
  it('is kept aside as .foreign-*, with a warning naming both files, before close() rewrites it', async () => {
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    const warnings: string[] = []
    const memory = await open({ path, onWarning: (message) => warnings.push(message) })
    await foreignWrite(path)
    const written = await readFile(path, 'utf8')
    await memory.add(1, { role: 'user', content: 'from node' })
    await memory.close()

    const kept = (await readdir(dir)).filter((name) => name.startsWith('c.json.foreign-'))
    expect(kept).toHaveLength(1)
    const keptPath = join(dir, kept[0] as string)
    expect(await readFile(keptPath, 'utf8')).toBe(written)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      `${JSON.stringify(path)} was written by another program (the Python bot?) while this store had it open. ` +
        `That version is kept as ${JSON.stringify(keptPath)}`,
    )
    expect(warnings[0]).toContain('stop the other program before opening the store')
    // The store's own state replaced it: the Python changes are in the kept copy only.
    const ours = JSON.parse(await readFile(path, 'utf8'))
    expect(ours.conversations['1'].map((m: { content: string }) => m.content)).toEqual(['hello', 'from node'])
    expect(ours.conversations['2']).toBeUndefined()
  })

  it('a background compaction keeps it aside too, and the store carries on', async () => {
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    const warnings: string[] = []
    const memory = await open({
      backend: fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.01 }),
      saveEvery: 1,
      onWarning: (message) => warnings.push(message),
    })
    await foreignWrite(path)
    await memory.add(1, { role: 'user', content: 'from node' })
    await memory.flush()
    await compactions(memory, 1)
    expect((await readdir(dir)).filter((name) => name.startsWith('c.json.foreign-'))).toHaveLength(1)
    expect(warnings.filter((w) => w.includes('was written by another program'))).toHaveLength(1)
    // Our own rewrite is not taken for another program's at the next one.
    await memory.add(1, { role: 'user', content: 'again' })
    await memory.flush()
    await compactions(memory, 2)
    await memory.close()
    expect(warnings.filter((w) => w.includes('another program'))).toHaveLength(1)
    expect((await readdir(dir)).filter((name) => name.startsWith('c.json.foreign-'))).toHaveLength(1)
  })

  it('a write landing before the store hears back from the compaction worker is still seen', async () => {
    // The built package: its compaction worker runs next to it.
    const built = (await import(
      pathToFileURL(ensureBuilt('index.js')).href
    )) as typeof import('../../../src/index.js')
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    // Large enough that the worker's rewrite is still running when this thread starts to watch.
    const data = JSON.parse(await readFile(path, 'utf8'))
    for (let c = 0; c < 2000; c++) {
      data.conversations[`bulk${c}`] = Array.from({ length: 10 }, (_, i) => ({
        role: 'user',
        content: `message ${i} of a conversation the Python bot wrote, long enough to weigh a little`,
        timestamp: '2026-01-01T00:00:00Z',
      }))
    }
    await writeFile(path, JSON.stringify(data))
    const warnings: string[] = []
    const memory = await built.openMemory({
      backend: built.fileBackend({ path, compactionMinBytes: 0, compactionRatio: 0.01 }),
      saveEvery: 1,
      flushOnExit: false,
      onWarning: (message) => warnings.push(message),
    })
    try {
      const before = statSync(path).ino
      // Past compactionRatio of the snapshot: the flush starts a rewrite on the worker.
      await memory.add(1, { role: 'user', content: 'x'.repeat(64 * 1024) })
      await memory.flush()
      // Hold this thread once the worker has renamed its snapshot into place, and write the file
      // as another program would before the worker's answer can be handled.
      for (let tries = 0; statSync(path).ino === before && tries < 250; tries++) {
        const until = Date.now() + 20
        while (Date.now() < until && statSync(path).ino === before) {
          // Busy: the event loop must not run between the rename and the write.
        }
        if (statSync(path).ino === before) await new Promise((resolve) => setTimeout(resolve, 1))
      }
      expect(statSync(path).ino).not.toBe(before)
      const foreign = JSON.stringify({
        conversations: { '1': [{ role: 'user', content: 'hello', timestamp: '2026-01-01T00:00:00Z' }] },
        other: 'written by another program meanwhile',
      })
      writeFileSync(path, foreign)
      await compactions(memory, 1)
      await memory.add(1, { role: 'user', content: 'after' })
      await memory.close()
      const kept = (await readdir(dir)).filter((name) => name.startsWith('c.json.foreign-'))
      expect(kept).toHaveLength(1)
      expect(await readFile(join(dir, kept[0] as string), 'utf8')).toBe(foreign)
      expect(warnings.filter((w) => w.includes('was written by another program'))).toHaveLength(1)
    } finally {
      await memory.destroy()
    }
    // A 2,000-conversation snapshot rewritten twice on a worker: seconds on a loaded machine.
  }, 30_000)

  it('no warning and no copy when nobody else wrote the file', async () => {
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    const warnings: string[] = []
    for (let round = 0; round < 2; round++) {
      const memory = await open({ path, onWarning: (message) => warnings.push(message) })
      await memory.add(1, { role: 'user', content: `round ${round}` })
      await memory.close()
    }
    expect(warnings).toEqual([])
    expect((await readdir(dir)).filter((name) => name.includes('.foreign-'))).toEqual([])
  })

  it('a close that does not rewrite the file still says it was written elsewhere', async () => {
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    const warnings: string[] = []
    const memory = await open({ path, onWarning: (message) => warnings.push(message) })
    await foreignWrite(path)
    const written = await readFile(path, 'utf8')
    await memory.close()
    expect(await readFile(path, 'utf8')).toBe(written)
    expect(warnings).toEqual([
      `[@taurobot/memory] ${JSON.stringify(path)} was written by another program (the Python bot?) while this store had it open; the store left it as it is. ` +
        'Stop the other program before opening the store: while a store has the file open, nothing else may write it.',
    ])
  })
})

describe('compaction worker job: the snapshot it was given differs', () => {
  it('refuses with ForeignSnapshotError (a CompactionMismatchError) and leaves the file alone', async () => {
    const dir = await fresh()
    const path = await pythonBotFile(dir)
    const journalPath = `${path}.journal`
    await writeFile(journalPath, '')
    const expectIdentity = identityOf(await stat(path))
    await foreignWrite(path)
    const written = await readFile(path, 'utf8')
    const job = { path, journalPath, journalBytes: 0, seq: 0, maxMessages: 100, expectIdentity }
    expect(() => compactFromDisk(job)).toThrow(ForeignSnapshotError)
    expect(await readFile(path, 'utf8')).toBe(written)
    expect(compactFromDisk({ ...job, expectIdentity: identityOf(await stat(path)) })).toBeGreaterThan(0)
  })
})
