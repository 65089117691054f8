import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { tempDir } from '../../helpers.js'

const here = dirname(fileURLToPath(import.meta.url))
const holder = join(here, '..', '..', 'fixtures', 'holder.mjs')
const cleanups: Array<() => Promise<void>> = []
const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

interface Held {
  child: ChildProcess
  pid: number
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts the holder fixture against the built package and waits until its store is open. */
async function hold(path: string, count: number, after: 'wait' | 'idle', flush = 'flush'): Promise<Held> {
  const child = spawn(process.execPath, [holder, path, String(count), after, flush], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let output = ''
  let errors = ''
  child.stderr?.on('data', (data: Buffer) => {
    errors += data.toString()
  })
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString()
      const match = /ready (\d+)\n/.exec(output)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) =>
      reject(new Error(`holder exited with ${code} before it was ready: ${errors}`)),
    )
  })
  return { child, pid, exit }
}

describe('two processes', () => {
  it('a second process gets MemoryError locked naming the holder; the lock is free once it exits', async () => {
    const path = join(await fresh(), 'conversations.json')
    const held = await hold(path, 0, 'wait')
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy((error) => isMemoryError(error, 'locked'))
    await expect(attempt).rejects.toThrow(new RegExp(`in use by process ${held.pid}`))
    held.child.kill('SIGTERM')
    await held.exit
    const memory = await openMemory({ path, flushOnExit: false })
    await memory.close()
  })

  it('a lock left by a SIGKILLed process is taken over', async () => {
    const path = join(await fresh(), 'conversations.json')
    const held = await hold(path, 2, 'wait')
    held.child.kill('SIGKILL')
    await held.exit
    expect(existsSync(`${path}.lock`)).toBe(true)
    const memory = await openMemory({ path, flushOnExit: false })
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    await memory.close()
  })
})

describe('flush on exit', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: pending messages are written, then the process still dies by ${signal}`, async () => {
      const path = join(await fresh(), 'conversations.json')
      const held = await hold(path, 3, 'wait')
      held.child.kill(signal)
      const { code, signal: diedBy } = await held.exit
      expect(code).toBeNull()
      expect(diedBy).toBe(signal)
      const memory = await openMemory({ path, flushOnExit: false })
      expect((await memory.history('held')).map((m) => m.content)).toEqual([
        'pending 0',
        'pending 1',
        'pending 2',
      ])
      await memory.close()
    })
  }

  it('beforeExit: a forgotten store flushes and does not keep the process alive', async () => {
    const path = join(await fresh(), 'conversations.json')
    const held = await hold(path, 4, 'idle')
    const { code } = await held.exit
    expect(code).toBe(0)
    const memory = await openMemory({ path, flushOnExit: false })
    expect((await memory.history('held')).length).toBe(4)
    await memory.close()
  })

  it('flushOnExit: false leaves shutdown to the caller (pending messages are not written)', async () => {
    const path = join(await fresh(), 'conversations.json')
    const held = await hold(path, 2, 'wait', 'no-flush')
    held.child.kill('SIGTERM')
    const { signal } = await held.exit
    expect(signal).toBe('SIGTERM')
    const memory = await openMemory({ path, flushOnExit: false })
    expect(await memory.history('held')).toEqual([])
    await memory.close()
  })
})

describe('Python bot compatibility', () => {
  const fixture = join(here, '..', '..', 'fixtures', 'legacy-conversations.json')

  it('loads the legacy format: numeric ids as keys, non-ASCII text, extra fields', async () => {
    const path = join(await fresh(), 'conversations.json')
    await copyFile(fixture, path)
    const memory = await openMemory({ path, flushOnExit: false })
    const history = await memory.history(123456789)
    expect(history.map((m) => m.content)).toEqual([
      'Ciao! Come stai? 😊',
      'Benissimo, grazie! Perché me lo chiedi? — «così»',
    ])
    expect(history[1]?.model).toBe('gpt-4o-mini')
    expect(history[1]?.tokens).toBe(17)
    expect((await memory.history(-1001234567890))[0]).toEqual({
      role: 'user',
      content: 'Привет, 世界',
      timestamp: '2025-10-11T20:00:00.000000',
      reply_to: null,
    })
    expect(await memory.context('123456789', { limit: 1 })).toBe(
      'assistant: Benissimo, grazie! Perché me lo chiedi? — «così»',
    )
    const stats = await memory.stats()
    expect(stats.conversations).toBe(3)
    expect(stats.messages).toBe(3)
    await memory.close()
  })

  it('writes a snapshot that Python reads with json.load(f)["conversations"], extras preserved', async () => {
    const path = join(await fresh(), 'conversations.json')
    await copyFile(fixture, path)
    const memory = await openMemory({ path, flushOnExit: false })
    await memory.add(123456789, { role: 'user', content: 'Ancora una domanda: è vero? 🤔' })
    await memory.add('__proto__', { role: 'user', content: 'odd id' })
    await memory.close()
    const script = [
      'import json, sys',
      'with open(sys.argv[1], encoding="utf-8") as f:',
      '    data = json.load(f)',
      'conversations = data["conversations"]',
      'print(json.dumps({"ids": sorted(conversations), "last": conversations["123456789"][-1]["content"],',
      '  "model": conversations["123456789"][1]["model"], "empty": conversations["42"],',
      '  "bot_version": data["bot_version"], "has_updated": "last_updated" in data}, ensure_ascii=False))',
    ].join('\n')
    const output = execFileSync('python3', ['-c', script, path], { encoding: 'utf8' })
    expect(JSON.parse(output)).toEqual({
      ids: ['-1001234567890', '123456789', '42', '__proto__'],
      last: 'Ancora una domanda: è vero? 🤔',
      model: 'gpt-4o-mini',
      empty: [],
      bot_version: '1.4.2',
      has_updated: true,
    })
    const text = await readFile(path, 'utf8')
    // Same layout as json.dump(indent=2, ensure_ascii=False): two-space indent, text not escaped.
    expect(text.startsWith('{\n  "conversations": {\n    "')).toBe(true)
    expect(text).toContain(
      '\n    "123456789": [\n      {\n        "role": "user",\n        "content": "Ciao! Come stai? 😊",',
    )
    expect(text).toContain('Привет, 世界')
    // And Python's own rewrite of the file (no journal metadata) is read back by us.
    execFileSync('python3', [
      '-c',
      'import json,sys\nd=json.load(open(sys.argv[1]))\nd.pop("taurobot_memory")\njson.dump(d, open(sys.argv[1],"w"), indent=2, ensure_ascii=False)',
      path,
    ])
    const again = await openMemory({ path, flushOnExit: false })
    expect((await again.history(123456789)).length).toBe(3)
    await again.close()
  })
})
