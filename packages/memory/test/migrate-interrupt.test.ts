import { execFile, spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMemoryError, type Memory, memoryBackend, migrate, openMemory } from '../src/index.js'
import { ensureBuilt, tempDir } from './helpers.js'

const run = promisify(execFile)
const CONVERSATIONS = 100
const PER_CONVERSATION = 400

let dir: { dir: string; cleanup(): Promise<void> }
let source: string

beforeAll(async () => {
  dir = await tempDir()
  source = join(dir.dir, 'big.db')
  const writer = await openMemory({ path: source, flushOnExit: false })
  const text = 'x'.repeat(200)
  for (let c = 0; c < CONVERSATIONS; c++) {
    await writer.addMany(
      `chat-${c}`,
      Array.from({ length: PER_CONVERSATION }, (_, i) => ({
        role: 'user' as const,
        content: `${i} ${text}`,
      })),
    )
  }
  await writer.close()
}, 60_000)

afterAll(() => dir.cleanup())

/** Runs the CLI, sends `signal` once it reports a tenth copied, and resolves with how it ended. */
function interrupted(
  args: string[],
  signal: NodeJS.Signals,
): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ensureBuilt('cli.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let sent = false
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!sent && /migrated [1-9]\d*\/\d+ conversations/.test(stderr)) {
        sent = true
        child.kill(signal)
      }
    })
    child.on('error', reject)
    child.on('close', (code, killedBy) => resolve({ code, killedBy, stderr }))
  })
}

async function lengths(memory: Memory): Promise<number[]> {
  const found: number[] = []
  for await (const { messages } of memory.conversations()) found.push(messages)
  return found
}

describe('taurobot-memory migrate stopped by a signal (built)', () => {
  it('SIGINT into a JSON file: exits 130, says what was copied, a complete snapshot and no lock left', async () => {
    const out = join(dir.dir, 'out.json')
    const result = await interrupted(['migrate', source, out], 'SIGINT')
    expect(result.killedBy).toBeNull()
    expect(result.code).toBe(130)
    const said =
      /taurobot-memory: interrupted by SIGINT: copied (\d+) of 100 conversations to .*out\.json.*Run the same command again with --replace/.exec(
        result.stderr,
      )
    expect(said, result.stderr).not.toBeNull()
    const copied = Number(said?.[1])
    expect(copied).toBeGreaterThan(0)
    expect(copied).toBeLessThan(CONVERSATIONS)
    expect((await readdir(dir.dir)).filter((f) => f.startsWith('out.json.lock'))).toEqual([])
    // As the Python bot reads it: the snapshot alone, each copied conversation whole.
    const { conversations } = JSON.parse(await readFile(out, 'utf8')) as {
      conversations: Record<string, unknown[]>
    }
    expect(Object.keys(conversations)).toHaveLength(copied)
    for (const list of Object.values(conversations)) expect(list).toHaveLength(PER_CONVERSATION)

    const again = await run(process.execPath, [ensureBuilt('cli.js'), 'migrate', source, out, '--replace'])
    expect(again.stdout).toMatch(/^migrated 100 conversations, 40000 messages .*; counts match\n$/)
    const reader = await openMemory({ path: out, flushOnExit: false })
    expect(await lengths(reader)).toEqual(Array(CONVERSATIONS).fill(PER_CONVERSATION))
    await reader.close()
  }, 120_000)

  it('SIGTERM into SQLite: exits 143, the database closed (no -wal or -shm), whole conversations', async () => {
    const out = join(dir.dir, 'out.db')
    const result = await interrupted(['migrate', source, out], 'SIGTERM')
    expect(result.code).toBe(143)
    const copied = Number(
      /interrupted by SIGTERM: copied (\d+) of 100 conversations/.exec(result.stderr)?.[1],
    )
    expect(copied).toBeGreaterThan(0)
    expect((await readdir(dir.dir)).filter((f) => f.startsWith('out.db'))).toEqual(['out.db'])
    const reader = await openMemory({ path: out, flushOnExit: false })
    expect(await lengths(reader)).toEqual(Array(copied).fill(PER_CONVERSATION))
    await reader.close()
  }, 120_000)
})

describe('migrate() with a signal', () => {
  it('stops between conversations, writes what it copied and says how far it got', async () => {
    const from = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    const to = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    try {
      for (const id of ['a', 'b', 'c']) await from.add(id, { role: 'user', content: id })
      const controller = new AbortController()
      const error = await migrate(from, to, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.conversations === 1) controller.abort()
        },
      }).catch((e: unknown) => e)
      expect(isMemoryError(error, 'migration')).toBe(true)
      expect((error as Error).message).toMatch(/stopped after 1 of 3 conversations \(1 of 3 messages\)/)
      expect((error as { details: unknown }).details).toEqual({
        copied: 1,
        totalConversations: 3,
        messages: 1,
        totalMessages: 3,
      })
      expect(await lengths(to)).toEqual([1])
      await expect(migrate(from, to, { signal: 'stop' as unknown as AbortSignal })).rejects.toThrow(
        /signal must be an AbortSignal, got "stop"/,
      )
    } finally {
      await Promise.all([from.close(), to.close()])
    }
  })
})
