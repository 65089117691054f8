import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../../../src/backends/sqlite/schema.js'
import { SqliteBackend } from '../../../src/backends/sqlite/sqlite-backend.js'
import type { Memory, MemoryOptions } from '../../../src/index.js'
import { fileBackend, isMemoryError, openMemory } from '../../../src/index.js'
import type { SqliteBackendOptions } from '../../../src/sqlite.js'
import { ensureBuilt, fillDisk, mountTmpfs, mountUnavailable, packageDir, tempDir } from '../../helpers.js'

const run = promisify(execFile)
const builtWorker = pathToFileURL(ensureBuilt('sqlite-write-worker.js'))
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

type Where = 'main thread' | 'worker'
const BOTH: Where[] = ['main thread', 'worker']

function backend(options: SqliteBackendOptions, where: Where = 'worker'): SqliteBackend {
  return new SqliteBackend(options, where === 'worker' ? builtWorker : undefined)
}

async function open(
  options: SqliteBackendOptions,
  where: Where = 'worker',
  store: Omit<MemoryOptions, 'backend'> = {},
): Promise<Memory> {
  const memory = await openMemory({ backend: backend(options, where), flushOnExit: false, ...store })
  stores.push(memory)
  return memory
}

function contents(messages: Array<{ content: string }>): string[] {
  return messages.map((m) => m.content)
}

describe('faults at open', () => {
  it('a text file at path: MemoryError corrupt saying to move it aside', async () => {
    const path = join(await fresh(), 'conversations.db')
    await writeFile(path, 'these are my notes, not a database\n'.repeat(200))
    const attempt = open({ path })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(
      /conversations\.db" is not a usable SQLite database \(SQLITE_NOTADB/,
    )
    await expect(attempt).rejects.toThrow(/move it aside/)
  })

  it.each([
    ['one byte (echo > conversations.db)', '\n'],
    ['fifteen bytes', 'SQLite format 3'],
  ])('a file of %s at path: MemoryError corrupt, the file left as it was', async (_, text) => {
    // SQLite itself takes a one-byte file for an empty database and writes a new one over it.
    const path = join(await fresh(), 'conversations.db')
    await writeFile(path, text)
    const attempt = open({ path })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(/is not a usable SQLite database \(SQLITE_NOTADB/)
    expect(await readFile(path, 'utf8')).toBe(text)
    expect(existsSync(`${path}-wal`)).toBe(false)
  })

  it("another application's SQLite file: MemoryError corrupt naming its tables, the file untouched", async () => {
    const path = join(await fresh(), 'app.db')
    const other = new Database(path)
    other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada')")
    other.close()
    const before = await readFile(path)
    const attempt = open({ path })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(
      /database of another application \(tables: users\).*Point path at a new file/,
    )
    const check = new Database(path)
    expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual([
      'users',
    ])
    // Not a byte changed: in particular it was not switched to WAL mode (a header byte).
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete')
    check.close()
    expect((await readFile(path)).equals(before)).toBe(true)
  })

  it('a store written by a newer schema version: MemoryError corrupt saying to upgrade', async () => {
    const path = join(await fresh(), 'conversations.db')
    const first = await open({ path })
    await first.add(1, { role: 'user', content: 'x' })
    await first.close()
    const db = new Database(path)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const attempt = open({ path })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `newer @taurobot/memory \\(schema version ${SCHEMA_VERSION + 1}; this one reads up to ${SCHEMA_VERSION}\\)\\. Upgrade @taurobot/memory`,
      ),
    )
    // Refused before anything is written: the version stays as it was.
    const after = new Database(path, { readonly: true })
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1)
    after.close()
  })

  it('a directory at path: MemoryError io saying so, naming its absolute path', async () => {
    const path = join(await fresh(), 'x.db')
    await mkdir(path)
    const attempt = openMemory({ path: relative(process.cwd(), path), flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(
      `[@taurobot/memory] cannot open the SQLite store: ${JSON.stringify(path)} is a directory, not a database file. ` +
        `Point path at a file, such as ${JSON.stringify(join(path, 'conversations.db'))}, or move the directory away.`,
    )
  })

  it('other failures at open name the absolute path, also when path is relative', async () => {
    const path = join(await fresh(), 'notes.db')
    await writeFile(path, 'these are my notes, not a database\n'.repeat(200))
    for (const where of BOTH) {
      const attempt = open({ path: relative(process.cwd(), path) }, where)
      await expect(attempt).rejects.toThrow(
        `cannot open the SQLite store: ${JSON.stringify(path)} is not a usable SQLite database (SQLITE_NOTADB`,
      )
    }
  })

  it('details.file is the plain absolute path, whatever the failure, also when path is relative', async () => {
    const dir = await fresh()
    const notes = join(dir, 'notes.db')
    await writeFile(notes, 'these are my notes, not a database\n'.repeat(200))
    const foreign = join(dir, 'app.db')
    const other = new Database(foreign)
    other.exec('CREATE TABLE users (name TEXT)')
    other.close()
    const directory = join(dir, 'x.db')
    await mkdir(directory)
    for (const path of [notes, foreign, directory]) {
      for (const where of BOTH) {
        const error = await open({ path: relative(process.cwd(), path) }, where).then(
          () => undefined,
          (e: unknown) => e as { details?: { file?: unknown } },
        )
        expect(error?.details?.file).toBe(path)
      }
    }
  })

  it('a JSON snapshot named .db: MemoryError corrupt saying how to open it, the file untouched', async () => {
    const dir = await fresh()
    const json = join(dir, 'conversations.json')
    const writer = await openMemory({ path: json, flushOnExit: false })
    await writer.add(1, { role: 'user', content: 'kept in JSON' })
    await writer.close()
    const path = join(dir, 'renamed.db')
    await rename(json, path)
    const before = await readFile(path)
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(
      `[@taurobot/memory] cannot open the SQLite store: ${JSON.stringify(path)} is not a SQLite database but looks like a JSON snapshot (it starts with "{"), such as the JSON file backend writes. ` +
        "Open it with the JSON file backend: give it a .json name, or pass backend: fileBackend({ path }) from '@taurobot/memory'. " +
        'To move it into SQLite, name it .json and run: npx @taurobot/memory migrate <that>.json <new>.db. Nothing was changed.',
    )
    expect((await readFile(path)).equals(before)).toBe(true)
    expect((await readdir(dir)).sort()).toEqual(['conversations.json.journal', 'renamed.db'])
    // What the message says works.
    const memory = await openMemory({ backend: fileBackend({ path }), flushOnExit: false })
    stores.push(memory)
    expect((await memory.history(1)).map((m) => m.content)).toEqual(['kept in JSON'])
  })

  it('a file where the directory should be: MemoryError io naming the directory', async () => {
    const dir = await fresh()
    await writeFile(join(dir, 'memory'), 'a file')
    const attempt = open({ path: join(dir, 'memory', 'conversations.db') })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    await expect(attempt).rejects.toThrow(
      /cannot create directory ".*memory": ".*memory" is a file, not a directory/,
    )
  })

  it('without better-sqlite3 installed, opening says how to install it', async () => {
    ensureBuilt('sqlite.js')
    const dir = await fresh()
    // The built package alone, where no node_modules/better-sqlite3 can be found.
    await cp(join(packageDir, 'dist'), join(dir, 'dist'), { recursive: true })
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
    const script = [
      "const { sqliteBackend } = await import('./dist/sqlite.js')",
      "try { await sqliteBackend({ path: 'x.db' }).open({ maxMessages: 1, warn() {}, recovered() {} }) }",
      'catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })) }',
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir })
    const error = JSON.parse(stdout) as { name: string; code: string; message: string }
    expect(error.name).toBe('MemoryError')
    expect(error.code).toBe('backend-unavailable')
    expect(error.message).toContain('npm install better-sqlite3@12')
  }, 30_000)

  it('better-sqlite3 built for another Node.js: backend-unavailable saying to rebuild it, no file made', async () => {
    // The installed addon loads in this Node.js only: another major cannot load it, for real.
    const other = process.versions.node.startsWith('24.') ? 22 : 24
    const dir = await fresh()
    const script = [
      `const { openMemory } = await import(${JSON.stringify(pathToFileURL(ensureBuilt('index.js')).href)})`,
      "try { await openMemory({ path: 'c.db', flushOnExit: false }) }",
      'catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }',
    ].join('\n')
    const { stdout } = await run('npx', ['-y', `node@${other}`, '--input-type=module', '-e', script], {
      cwd: dir,
    })
    const error = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { code: string; message: string }
    expect(error.code).toBe('backend-unavailable')
    expect(error.message).toMatch(
      /native addon cannot be loaded by Node\.js v\d+.*npm rebuild better-sqlite3/s,
    )
    expect(error.message).not.toMatch(/\.\./)
    expect(existsSync(join(dir, 'c.db'))).toBe(false)
  }, 120_000)
})

describe.each(BOTH)('a database locked by another connection (writes on the %s)', (where) => {
  it('strict: add() rejects with locked after busyTimeoutMs; reads still work; then it succeeds', async () => {
    const path = join(await fresh(), 'conversations.db')
    const memory = await open({ path, busyTimeoutMs: 100 }, where, {
      durability: 'strict',
      onError: () => undefined,
    })
    await memory.add(1, { role: 'user', content: 'before' })
    const holder = new Database(path)
    cleanups.push(() => void holder.close())
    holder.exec('BEGIN EXCLUSIVE')
    const attempt = memory.add(1, { role: 'user', content: 'refused' })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await expect(attempt).rejects.toThrow(
      /is locked by another connection \(SQLITE_BUSY.*raise busyTimeoutMs/,
    )
    // Said to the caller whose add() rejected: that message is not stored, and batched mode's
    // retry does not apply to it.
    await expect(attempt).rejects.toThrow(/They were not stored: add them again/)
    await expect(attempt).rejects.not.toThrow(/keeps them and retries/)
    expect(contents(await memory.history(1))).toEqual(['before'])
    holder.exec('COMMIT')
    await memory.add(1, { role: 'user', content: 'after' })
    expect(contents(await memory.history(1))).toEqual(['before', 'after'])
  })

  it('batched: flush rejects with locked, the messages stay pending and are written once it is released', async () => {
    const path = join(await fresh(), 'conversations.db')
    const errors: unknown[] = []
    const memory = await open({ path, busyTimeoutMs: 50 }, where, {
      saveEvery: 1000,
      onError: (error) => errors.push(error),
    })
    const holder = new Database(path)
    cleanups.push(() => void holder.close())
    holder.exec('BEGIN EXCLUSIVE')
    for (let i = 0; i < 5; i++) await memory.add('a', { role: 'user', content: `m${i}` })
    const flushed = memory.flush()
    await expect(flushed).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await expect(flushed).rejects.toThrow(/The store keeps them and retries/)
    expect((await memory.stats()).pending).toBe(5)
    expect(contents(await memory.history('a'))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    holder.exec('COMMIT')
    await memory.flush()
    await memory.close()
    const again = await open({ path }, where)
    expect(contents(await again.history('a'))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })
})

describe.each(BOTH)('a batch that fails half-way (writes on the %s)', (where) => {
  it('leaves none of it visible, and the retry writes it once', async () => {
    const path = join(await fresh(), 'conversations.db')
    const memory = await open({ path }, where, { saveEvery: 1000 })
    await memory.add('a', { role: 'user', content: 'a0' })
    await memory.flush()
    // A real failure in the middle of the transaction: the second conversation's insert aborts.
    const other = new Database(path)
    cleanups.push(() => void other.close())
    other.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.json LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
    )
    await memory.add('a', { role: 'user', content: 'a1' })
    await memory.add('b', { role: 'user', content: 'boom' })
    await expect(memory.flush()).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
    const check = other.prepare('SELECT json FROM messages').pluck()
    expect(
      (check.all() as string[]).map((json) => (JSON.parse(json) as { content: string }).content),
    ).toEqual(['a0'])
    expect(other.prepare('SELECT id, count FROM conversations').all()).toEqual([{ id: 'a', count: 1 }])
    other.exec('DROP TRIGGER refuse')
    await memory.flush()
    expect(contents(await memory.history('a'))).toEqual(['a0', 'a1'])
    expect(contents(await memory.history('b'))).toEqual(['boom'])
  })
})

const cannotMount = mountUnavailable()

describe.skipIf(cannotMount !== undefined)(
  `real disk faults on tmpfs${cannotMount ? ` (skipped: ${cannotMount})` : ''}`,
  () => {
    async function tmpfs(sizeKiB: number): Promise<string> {
      const { mountPoint, unmount } = await mountTmpfs(await fresh(), sizeKiB)
      cleanups.push(unmount)
      return mountPoint
    }

    it('read-only file system (EROFS), the directory to create: names EROFS and the directory, not ENOENT', async () => {
      const mnt = await tmpfs(64)
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      const attempt = open({ path: join(mnt, 'a', 'b', 'conversations.db') })
      await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
      await expect(attempt).rejects.toThrow(
        `cannot create directory ${JSON.stringify(join(mnt, 'a'))} for ${JSON.stringify(join(mnt, 'a', 'b'))}: EROFS. The file system is read-only`,
      )
    })

    it.each(BOTH)(
      'disk full (writes on the %s): batched keeps every message pending and retries; strict rejects; nothing is lost or doubled',
      async (where) => {
        const mnt = await tmpfs(1024)
        const path = join(mnt, 'memory', 'conversations.db')
        const errors: unknown[] = []
        const memory = await open({ path }, where, {
          saveEvery: 1000,
          onError: (error) => errors.push(error),
        })
        await memory.add(1, { role: 'user', content: 'fits' })
        await memory.flush()
        const filler = await fillDisk(mnt)
        for (let i = 0; i < 9; i++)
          await memory.add(1, { role: 'user', content: `full ${i} ${'x'.repeat(20_000)}` })
        const flushed = memory.flush()
        await expect(flushed).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
        await expect(flushed).rejects.toThrow(
          /SQLITE_FULL.*The disk is full: free some space\. The store keeps them and retries/,
        )
        expect((await memory.stats()).pending).toBe(9)
        expect((await memory.history(1)).length).toBe(10)
        await rm(filler)
        await memory.flush()
        await memory.close()
        const again = await open({ path }, where, { durability: 'strict', onError: () => undefined })
        expect((await again.history(1)).map((m) => m.content.slice(0, 6))).toEqual([
          'fits',
          ...Array.from({ length: 9 }, (_, i) => `full ${i}`),
        ])
        const refill = await fillDisk(mnt)
        await expect(again.add(2, { role: 'user', content: 'y'.repeat(200_000) })).rejects.toSatisfy(
          (error) => isMemoryError(error, 'io'),
        )
        expect(await again.history(2)).toEqual([])
        await rm(refill)
        await again.add(2, { role: 'user', content: 'after' })
        expect(contents(await again.history(2))).toEqual(['after'])
      },
    )

    it('read-only file system: open rejects with MemoryError io, for a new file and an existing one', async () => {
      const mnt = await tmpfs(1024)
      const path = join(mnt, 'conversations.db')
      const first = await open({ path })
      await first.add(1, { role: 'user', content: 'x' })
      await first.close()
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      for (const file of [path, join(mnt, 'new.db')]) {
        const attempt = open({ path: file })
        await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'io'))
        await expect(attempt).rejects.toThrow(
          `${JSON.stringify(file)}: its directory ${JSON.stringify(mnt)} is on a read-only file system (EROFS)`,
        )
        await expect(attempt).rejects.toThrow(/Point path at a writable location/)
      }
    })
  },
)

describe('faults after open', () => {
  it('pages damaged on disk: history() rejects with corrupt, advising the restore and not a retry', async () => {
    const path = join(await fresh(), 'conversations.db')
    const before = await open({ path })
    for (let i = 0; i < 400; i++) await before.add('c', { role: 'user', content: `m${i} ${'x'.repeat(200)}` })
    await before.close()
    // Every page after the schema's and the conversations table's first ones, but the last.
    const data = await readFile(path)
    data.fill(0x5a, 4 * 4096, data.length - 4096)
    await writeFile(path, data)
    const memory = await open({ path })
    const attempt = memory.history('c')
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'corrupt'))
    await expect(attempt).rejects.toThrow(
      /cannot read conversation "c": ".*conversations\.db" is not a usable SQLite database \(SQLITE_CORRUPT.*Restore it from a backup, or move it aside and the store starts a new one\.$/,
    )
  })
})
