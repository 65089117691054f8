import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnBotProcess, startBotProcess } from './bot-process.js'

let dir: string | undefined
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('shutdown', () => {
  it('on Ctrl+C (even delivered twice at once) writes pending messages, closes everything and exits by itself', async () => {
    dir = await mkdtemp(join(tmpdir(), 'taurobot-shutdown-'))
    const bot = await startBotProcess({ MEMORY_DIR: dir })
    const user = 'shutdown-user-1'
    for (const text of ['/voice', 'first', 'second']) {
      const response = await fetch(new URL('/api/chat', bot.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, text }),
      })
      expect(response.status).toBe(200)
    }
    // The terminal signals the whole process group and npm/pnpm/tsx relay it: the bot sees two.
    bot.child.kill('SIGINT')
    bot.child.kill('SIGINT')
    // No SIGTERM after them: a third signal may overtake the two (each thread can take one).
    expect(await bot.exited).toEqual({ code: 0, signal: null })
    expect(bot.output()).toContain('SIGINT: stopping')
    expect(bot.output()).toContain('TauroBot stopped.')
    expect(bot.output()).not.toContain('exiting without waiting')
    const file = JSON.parse(await readFile(join(dir, 'conversations.json'), 'utf8')) as {
      conversations: Record<string, { role: string; content: string }[]>
    }
    const saved = file.conversations[`web-${user}`] ?? []
    expect(saved.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['first', 'second'])
    expect(saved).toHaveLength(4)
  })
})

describe('start-up failures', () => {
  it('a setting it cannot use stops it with a message naming the variable', async () => {
    await expect(startBotProcess({ PORT: 'eighty' })).rejects.toThrow(
      /exited \(1\) before it was ready:\nCannot start TauroBot: PORT must be an integer from 0 to 65535, got "eighty"/,
    )
    await expect(startBotProcess({ VOICE_LANGUAGE: 'xx' })).rejects.toThrow(
      /exited \(1\) before it was ready:\nCannot start TauroBot: VOICE_LANGUAGE: language must be a language espeak-ng knows/,
    )
  })

  it("a store that cannot be opened stops it with the store's message and its cause in one line each, no stack", async () => {
    const base = await mkdtemp(join(tmpdir(), 'taurobot-blocked-'))
    try {
      await writeFile(join(base, 'file'), 'not a folder')
      const bot = spawnBotProcess({ MEMORY_DIR: join(base, 'file', 'memory') })
      expect(await bot.exited).toEqual({ code: 1, signal: null })
      const output = bot.output()
      expect(output).toContain(
        `Cannot start TauroBot: [@taurobot/memory] cannot create directory ${JSON.stringify(join(base, 'file', 'memory'))}: ${JSON.stringify(join(base, 'file'))} is a file, not a directory (ENOTDIR)`,
      )
      expect(output).toMatch(/\n {2}cause: ENOTDIR: not a directory/)
      expect(output).not.toMatch(/\n\s+at /)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })

  it('a busy port stops it with a clear message, and releases the store it opened', async () => {
    const busyDir = await mkdtemp(join(tmpdir(), 'taurobot-busy-'))
    const first = await startBotProcess({ MEMORY_DIR: join(busyDir, 'a') })
    try {
      await expect(
        startBotProcess({ PORT: String(first.port), MEMORY_DIR: join(busyDir, 'b') }),
      ).rejects.toThrow(
        `exited (1) before it was ready:\nCannot start TauroBot: port ${first.port} is already in use: set PORT to another port (PORT=0 picks a free one)`,
      )
      // The failed start closed its store: the same directory opens again at once.
      const again = await startBotProcess({ MEMORY_DIR: join(busyDir, 'b') })
      expect(await again.stop()).toEqual({ code: 0, signal: null })
    } finally {
      await first.stop()
      await rm(busyDir, { recursive: true, force: true })
    }
  })
})
