import { execFile } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { fileBackend } from '../../../src/index.js'
import { ensureBuilt, testScratch } from '../../helpers.js'

const run = promisify(execFile)
const { fresh, open } = testScratch()

const FILLER = 'Lorem ipsum "quoted" {braces} [brackets] back\\slash è à 🙂 '.repeat(60)

/** The content of message `m` of every conversation: its index, then text full of JSON's special characters. */
function content(m: number): string {
  return `#${m} ${FILLER}`
}

/**
 * Writes a snapshot the way the Python bot lays it out (`json.dump(..., indent=2,
 * ensure_ascii=False)`), straight to the file in pieces: one conversation's text is formatted once
 * and repeated under each id, so hundreds of megabytes take a second or two. Returns its size.
 */
function writePythonSnapshot(path: string, conversations: number, perConversation: number): number {
  const messages = Array.from({ length: perConversation }, (_, m) => ({
    role: m % 2 === 0 ? 'user' : 'assistant',
    content: content(m),
    timestamp: `2026-12-04T10:00:00.${String(m).padStart(6, '0')}`,
  }))
  const body = Buffer.from(JSON.stringify(messages, null, 2).replaceAll('\n', '\n    '))
  const fd = openSync(path, 'w')
  let bytes = 0
  const write = (data: string | Buffer) => {
    bytes += writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
  }
  try {
    write('{\n  "conversations": {')
    for (let c = 0; c < conversations; c++) {
      write(`${c === 0 ? '' : ','}\n    ${JSON.stringify(idOf(c))}: `)
      write(body)
    }
    write('\n  },\n  "last_updated": "2026-12-04T10:00:00",\n  "bot": {"name": "TauroBot"}\n}\n')
  } finally {
    closeSync(fd)
  }
  return bytes
}

function idOf(c: number): string {
  // Telegram-like ids, one of them the prototype's name.
  return c === 1 ? '__proto__' : String(100_000_000 + c)
}

// Writes, reads and rewrites over 600 MB (about 45 s, 3 GB of memory): run on its own, not beside
// the timing-sensitive tests of a full run. CI runs it as a step of its own.
const LARGE = process.env.MEMORY_LARGE_SNAPSHOT === '1'

// Past V8's longest string (0x1fffffe8 characters, about 512 MiB), where reading the file as one
// string fails. Sized so the whole test stays within about a minute on 2 shared cores.
const LARGE_CONVERSATIONS = 200
const LARGE_PER_CONVERSATION = 800

describe.runIf(LARGE)('snapshots larger than the longest V8 string (MEMORY_LARGE_SNAPSHOT=1)', () => {
  it('a 600+ MB Python-format snapshot opens; close() leaves it alone by default; compactOnClose "always" rewrites it past 512 MB and it reopens', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    const bytes = writePythonSnapshot(path, LARGE_CONVERSATIONS, LARGE_PER_CONVERSATION)
    expect(bytes).toBeGreaterThan(600 * 1024 * 1024)

    const warnings: string[] = []
    let memory = await open({ path, onWarning: (message) => warnings.push(message) })
    expect(await memory.stats()).toMatchObject({
      conversations: LARGE_CONVERSATIONS,
      messages: LARGE_CONVERSATIONS * LARGE_PER_CONVERSATION,
    })
    const proto = await memory.history('__proto__', { limit: 1 })
    expect(proto[0]?.content).toBe(content(LARGE_PER_CONVERSATION - 1))
    // Past 100 MB the store suggests SQLite, once.
    expect(warnings.filter((w) => w.includes('npx @taurobot/memory migrate'))).toHaveLength(1)

    await memory.add('__proto__', { role: 'user', content: 'after the large open' })
    const before = await stat(path)
    await memory.close()
    // 'auto': a snapshot this size is not rewritten at close; the journal keeps the message.
    const after = await stat(path)
    expect(after.size).toBe(before.size)
    expect(after.mtimeMs).toBe(before.mtimeMs)
    expect((await stat(`${path}.journal`)).size).toBeGreaterThan(0)

    memory = await open({ backend: fileBackend({ path, compactOnClose: 'always' }) })
    expect((await memory.history('__proto__', { limit: 1 }))[0]?.content).toBe('after the large open')
    await memory.add('100000000', { role: 'user', content: 'written by close' })
    await memory.close()
    expect((await stat(path)).size).toBeGreaterThan(0x1fffffe8)
    expect((await stat(`${path}.journal`)).size).toBe(0)

    // Written by close() past 512 MB, read again: the store always opens its own file.
    memory = await open({ path })
    expect(await memory.stats()).toMatchObject({ conversations: LARGE_CONVERSATIONS })
    expect((await memory.history('100000000', { limit: 1 }))[0]?.content).toBe('written by close')
    expect((await memory.history('__proto__', { limit: 2 })).map((m) => m.content)).toEqual([
      content(LARGE_PER_CONVERSATION - 1),
      'after the large open',
    ])
    await memory.close()
  }, 180_000)
})

describe('size limits and damage in large snapshots', () => {
  it('a snapshot damaged in its middle (past the first read piece) is restored from the .bak', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    writePythonSnapshot(path, 40, 300)
    const good = await readFile(path)
    expect(good.length).toBeGreaterThan(40 * 1024 * 1024)
    await writeFile(`${path}.bak`, good)
    // A raw quote inside a message of the third piece of 16 MiB.
    const damaged = Buffer.from(good)
    const at = damaged.indexOf('"content": "#', 36 * 1024 * 1024) + 14
    damaged[at] = 0x22
    await writeFile(path, damaged)

    const recovered: string[] = []
    const memory = await open({ path, onRecovered: (info) => recovered.push(info.message) })
    expect(recovered).toHaveLength(1)
    expect(recovered[0]).toContain('damaged')
    expect(await memory.stats()).toMatchObject({ conversations: 40, messages: 40 * 300 })
  }, 60_000)

  it('a store the heap cannot hold is refused with a too-large MemoryError naming SQLite, not a crash', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    writePythonSnapshot(path, 40, 300)
    const index = ensureBuilt('index.js')
    const script = `
      import { openMemory } from ${JSON.stringify(index)}
      try {
        await openMemory({ path: ${JSON.stringify(path)}, flushOnExit: false })
        console.log(JSON.stringify({ opened: true }))
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, message: error.message }))
      }`
    const { stdout } = await run(process.execPath, [
      '--max-old-space-size=32',
      '--input-type=module',
      '-e',
      script,
    ])
    const result = JSON.parse(stdout) as { code?: string; message?: string }
    expect(result.code).toBe('too-large')
    expect(result.message).toMatch(/^\[@taurobot\/memory\] /)
    expect(result.message).toContain('SQLite')
    // The store's own path, and a database of the same name beside it.
    expect(result.message).toContain(`npx @taurobot/memory migrate ${path} ${join(dir, 'conversations.db')}`)
    expect(result.message).not.toContain('memory/conversations.json')
    expect(result.message).toContain('--max-old-space-size=')
    // Nothing was changed: no .bak, no journal.
    await expect(stat(`${path}.journal`)).rejects.toThrow()
  }, 60_000)

  it('the migrate command, short of heap for its source, names the heap it needs, not itself', async () => {
    const dir = await fresh()
    const path = join(dir, 'conversations.json')
    writePythonSnapshot(path, 40, 300)
    const cli = ensureBuilt('cli.js')
    const failed = await run(process.execPath, [
      '--max-old-space-size=32',
      cli,
      'migrate',
      path,
      join(dir, 'conversations.db'),
    ]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    )
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toMatch(/too large for this process's heap \(about \d+ MB needed\)/)
    expect(failed?.stderr).toMatch(/NODE_OPTIONS=--max-old-space-size=\d+ npx @taurobot\/memory migrate /)
    expect(failed?.stderr).not.toContain('SQLite backend')
    await expect(stat(join(dir, 'conversations.db'))).rejects.toThrow()
  }, 60_000)
})
