import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startBotProcess } from './bot-process.js'

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
    expect(await bot.stop()).toEqual({ code: 0, signal: null })
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
