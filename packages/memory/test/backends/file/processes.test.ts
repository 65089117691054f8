import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { deadPid, straceDelay, straceUnavailable, tempDir } from '../../helpers.js'

const here = dirname(fileURLToPath(import.meta.url))
const holder = join(here, '..', '..', 'fixtures', 'holder.mjs')
const cleanups: Array<() => Promise<void>> = []
const children: ChildProcess[] = []
const traced: number[] = []
afterEach(async () => {
  for (const pid of traced.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function fresh(): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

interface Started {
  child: ChildProcess
  /** Resolves with the holder's pid once its store is open; rejects if it exits before. */
  ready: Promise<number>
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

interface Held extends Omit<Started, 'ready'> {
  pid: number
}

/** Starts the holder fixture against the built package, optionally under a command (strace). */
function start(
  path: string,
  count: number,
  after: 'wait' | 'idle',
  flush = 'flush',
  under: string[] = [],
): Started {
  const command = [...under, process.execPath, holder, path, String(count), after, flush]
  const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let output = ''
  let errors = ''
  child.stderr?.on('data', (data: Buffer) => {
    errors += data.toString()
  })
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString()
      const match = /ready (\d+)\n/.exec(output)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) =>
      reject(new Error(`holder exited with ${code} before it was ready: ${errors}`)),
    )
  })
  ready.catch(() => undefined)
  return { child, ready, exit }
}

/** Starts the holder fixture and waits until its store is open. */
async function hold(path: string, count: number, after: 'wait' | 'idle', flush = 'flush'): Promise<Held> {
  const { child, ready, exit } = start(path, count, after, flush)
  return { child, pid: await ready, exit }
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

  it.skipIf(process.platform !== 'linux')(
    'a lock left by a SIGKILLed process that its parent never reaps (a zombie) is taken over',
    async () => {
      const path = join(await fresh(), 'conversations.json')
      // The shell starts the holder, then becomes `sleep`, which never waits for its children.
      const { ready } = start(path, 0, 'wait', 'flush', ['sh', '-c', '"$@" & exec sleep 60', 'sh'])
      const pid = await ready
      process.kill(pid, 'SIGKILL')
      const state = () => {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      }
      while (state() !== 'Z') await pause(10)
      const memory = await openMemory({ path, flushOnExit: false })
      expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
      await memory.close()
    },
  )
})

const noTrace = straceUnavailable()
// unlink and unlinkat, the system calls that remove a file.
const UNLINK_CALLS: Partial<Record<string, string[]>> = { x64: ['87', '263'], arm64: ['35'] }
// The system calls that create a lock: write, pwrite64, writev and pwritev (an older version wrote
// the record into the lock file it had just created), link and linkat (this one links a complete
// temp file into place).
const CREATE_CALLS: Partial<Record<string, string[]>> = {
  x64: ['1', '18', '20', '296', '86', '265'],
  arm64: ['64', '68', '66', '70', '37'],
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `check` until it holds; fails after `seconds` of wall-clock time (a hang, not a
 * measurement: a process started under strace on a busy machine can take tens of seconds).
 */
async function until(what: string, check: () => Promise<boolean> | boolean, seconds = 90): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`)
    await pause(10)
  }
}

/** The process strace started (not a probe strace forks first), registered to be killed after the test. */
async function tracee(strace: ChildProcess): Promise<number> {
  let pid = 0
  await until('strace starts the holder', async () => {
    const text = await readFile(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').catch(() => '')
    for (const child of text.trim().split(' ').filter(Boolean)) {
      // The holder runs Node; a child strace forks for itself (a probe) still runs strace's
      // command line, holder path included.
      const command = (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0')
      if (command[0] === process.execPath && command.includes(holder)) pid = Number(child)
    }
    return pid > 0
  })
  traced.push(pid)
  return pid
}

/** True while a thread of `pid` is held by strace at the entry of a system call among `calls`. */
async function heldIn(pid: number, calls: string[]): Promise<boolean> {
  const threads = await readdir(`/proc/${pid}/task`).catch(() => [])
  for (const tid of threads) {
    const syscall = await readFile(`/proc/${pid}/task/${tid}/syscall`, 'utf8').catch(() => '')
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    if (calls.includes(syscall.split(' ')[0] ?? '') && state === 't') return true
  }
  return false
}

const isLocked = (error: unknown) => isMemoryError(error, 'locked')

describe('the lock between processes', () => {
  it('four processes started together on a lock left by a dead process: exactly one opens', async () => {
    const path = join(await fresh(), 'conversations.json')
    await writeFile(`${path}.lock`, JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' }))
    const starters = Array.from({ length: 4 }, () => start(path, 0, 'wait'))
    const results = await Promise.all(
      starters.map((s) =>
        s.ready.then(
          () => 'opened',
          (error: Error) => error.message,
        ),
      ),
    )
    expect(results.filter((result) => result === 'opened')).toHaveLength(1)
    for (const result of results.filter((r) => r !== 'opened'))
      expect(result).toMatch(/in use by process|keep taking it/)
  }, 30_000)

  describe.skipIf(noTrace !== undefined)(`under strace${noTrace ? ` (skipped: ${noTrace})` : ''}`, () => {
    it.skipIf(CREATE_CALLS[process.arch] === undefined)(
      'a lock held back 3 s while it is being created is never held by two processes',
      async () => {
        const dir = await fresh()
        const path = join(dir, 'conversations.json')
        const lock = `${path}.lock`
        // The first process is held 3 s at each system call that creates the lock at its path: the
        // link() of its complete temp file into place (or, in older versions, the write of its
        // record into the lock file it had just created, which then stayed empty meanwhile).
        const calls = 'write,pwrite64,writev,pwritev,link,linkat'
        const first = start(path, 0, 'wait', 'flush', straceDelay(lock, { [calls]: 3000 }))
        const pid = await tracee(first.child)
        const held = () => heldIn(pid, CREATE_CALLS[process.arch] ?? [])
        // Held twice 100 ms apart: the delay, not a passing stop of strace at some other write.
        await until('the first process is held creating its lock', async () => {
          if (!(await held())) return false
          await pause(100)
          return held()
        })
        // What the first process left on disk while it is held there.
        const names = await readdir(dir)
        const temps = names.filter((name) => name.startsWith(`conversations.json.lock.tmp-${pid}-`))
        const tempRecord = temps[0] === undefined ? '' : await readFile(join(dir, temps[0]), 'utf8')
        const lockExisted = names.includes('conversations.json.lock')
        // This process tries while the first one is held, and keeps the store open until the first
        // one is done trying.
        const opening = openMemory({ path, flushOnExit: false })
        const second = await opening.then(
          () => 'opened',
          (error: unknown) => error,
        )
        const stillHeld = await held()
        const firstResult = await first.ready.then(
          () => 'opened',
          (error: Error) => error,
        )
        if (second === 'opened') await (await opening).close()
        // Exactly one of the two has the store: the other is told it is locked.
        expect([firstResult, second].filter((result) => result === 'opened')).toHaveLength(1)
        if (second !== 'opened') expect(second).toSatisfy(isLocked)
        else expect(String(firstResult)).toMatch(/in use by process/)
        // The delay hit the creation path: while held, the first process's record was complete in
        // its temp file and not yet at the lock's path, and this process opened meanwhile.
        expect(lockExisted).toBe(false)
        expect(temps).toHaveLength(1)
        expect(JSON.parse(tempRecord).pid).toBe(pid)
        expect(stillHeld).toBe(true)
      },
      60_000,
    )

    it.skipIf(UNLINK_CALLS[process.arch] === undefined)(
      'two processes taking over the same stale lock: one opens, the other gets locked',
      async () => {
        const path = join(await fresh(), 'conversations.json')
        const lock = `${path}.lock`
        await writeFile(lock, JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' }))
        // The first process is held 2 s at its removal of the stale lock; meanwhile this one opens.
        // It is then held 0.5 s more before it links its own lock into place: the lock path stays
        // free meanwhile, and this process, still retrying, takes it there (on a busy machine the
        // first one can be that slow without the delay). Either outcome is right, as long as the
        // two never hold the store at the same time.
        const delays = { 'unlink,unlinkat': 2000, 'link,linkat': 500 }
        const first = start(path, 0, 'wait', 'flush', straceDelay(lock, delays))
        const pid = await tracee(first.child)
        await until('the first process removes the stale lock', () =>
          heldIn(pid, UNLINK_CALLS[process.arch] ?? []),
        )
        // This store stays open until the first process is done trying: closed at once, it would
        // free the lock for the first one, whose later open is then right, not a second holder.
        const opening = openMemory({ path, flushOnExit: false })
        const second = await opening.then(
          () => 'opened',
          (error: unknown) => error,
        )
        const firstResult = await first.ready.then(
          () => 'opened',
          (error: Error) => error,
        )
        if (second === 'opened') await (await opening).close()
        expect([firstResult, second].filter((result) => result === 'opened')).toHaveLength(1)
        if (second !== 'opened') expect(second).toSatisfy(isLocked)
        else expect(String(firstResult)).toMatch(/in use by process/)
      },
      120_000,
    )
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
      // Not in the file: derived from the message, the same at every open.
      id: expect.stringMatching(/^legacy-[0-9a-f]{16}$/),
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
