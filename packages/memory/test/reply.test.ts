import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type Backend, fileBackend, memoryBackend, type RecoveredInfo } from '../src/index.js'
import { sqliteBackend } from '../src/sqlite.js'
import { journalText, tempDir, testScratch } from './helpers.js'
import { describeReplyContract } from './reply-contract.js'

/**
 * A real backend with `extend` hidden, as a backend that applies upserts and removes but not
 * extend (SQLite, Redis) is seen by the store; `kinds` records the operations it was given.
 */
function withoutExtend(backend: Backend, kinds: string[] = []): Backend {
  return {
    name: backend.name,
    operations: true,
    open: (context) => backend.open(context),
    append: (batch) => {
      for (const entry of batch) {
        for (const operation of entry.operations ?? entry.messages.map(() => ({ op: 'add' }))) {
          kinds.push(operation.op)
        }
      }
      return backend.append(batch)
    },
    read: (id, limit) => backend.read(id, limit),
    clear: (id) => backend.clear(id),
    conversations: () => backend.conversations(),
    close: () => backend.close(),
    destroy: () => (backend.destroy ?? backend.close).call(backend),
  }
}

async function fileTarget(wrap: (backend: Backend) => Backend = (backend) => backend) {
  const { dir, cleanup } = await tempDir()
  const path = join(dir, 'memory', 'conversations.json')
  return { make: () => wrap(fileBackend({ path })), cleanup }
}

describeReplyContract('memory', async () => ({ make: () => memoryBackend() }), { persistent: false })
describeReplyContract('file', () => fileTarget(), { persistent: true })
describeReplyContract('file without extend (upsert fallback)', () => fileTarget(withoutExtend), {
  persistent: true,
})
describeReplyContract(
  'sqlite (upsert fallback)',
  async () => {
    const { dir, cleanup } = await tempDir()
    const path = join(dir, 'memory', 'conversations.db')
    return { make: () => sqliteBackend({ path }), cleanup }
  },
  { persistent: true },
)

const { fresh, open } = testScratch()

function journalLines(text: string): string[] {
  return text.split('\n').filter(Boolean)
}

describe('memory.reply() on the file backend', () => {
  it('journals each part as a compact x record: its text, two ids and the record frame', async () => {
    const path = join(await fresh(), 'c.json')
    const memory = await open({ path, flushIntervalMs: 600_000 })
    const reply = memory.reply('chat-1', { id: 'r' })
    await reply.flush()
    const before = (await journalText(`${path}.journal`)).length
    const delta = 'ciao '.repeat(20)
    reply.append(delta)
    await reply.flush()
    const journal = await journalText(`${path}.journal`)
    const last = journalLines(journal).at(-1) as string
    expect(last).toMatch(/^\{"s":\d+,"x":\[\["chat-1","r","(ciao ){20}"\]\],"crc":"[0-9a-f]{8}"\}$/)
    // The frame: `{"s":N,"x":[["chat-1","r","` and `"]],"crc":"…"}` and a newline.
    expect(journal.length - before).toBe(delta.length + 48 + String(journalLines(journal).length).length)
    await reply.end()
    await memory.flush()
    expect(journalLines(await journalText(`${path}.journal`)).at(-1)).toMatch(
      /^\{"s":\d+,"x":\[\["chat-1","r","",1\]\],"crc"/,
    )
  })

  it('replays parts once, also across snapshot rewrites', async () => {
    const path = join(await fresh(), 'c.json')
    const backend = fileBackend({
      path,
      compactionMinBytes: 512,
      compactionRatio: 0.1,
      compactionWorker: false,
    })
    const memory = await open({ backend, durability: 'strict', flushIntervalMs: 600_000 })
    const replies = [memory.reply('a', { id: 'one' }), memory.reply('b', { id: 'two' })]
    let expected = ''
    for (let i = 0; i < 200; i++) {
      const delta = `part ${i}; `
      expected += delta
      for (const reply of replies) reply.append(delta)
      if (i % 3 === 0) await Promise.all(replies.map((reply) => reply.flush()))
      if (i % 50 === 0) await memory.add('a', { role: 'user', content: `interrupt ${i}` })
    }
    await replies[0]?.end()
    await replies[1]?.flush()
    const stats = await memory.stats()
    expect(stats.compactions).toBeGreaterThan(0)
    await memory.destroy()
    const again = await open({ path })
    const a = await again.history('a')
    expect(a.filter((m) => m.id === 'one')).toEqual([expect.objectContaining({ content: expected })])
    expect(a.find((m) => m.id === 'one')).not.toHaveProperty('unfinished')
    // The reply was started first: its message comes before the adds made while it streamed.
    expect(a.map((m) => (m.id === 'one' ? 'reply' : m.content))).toEqual([
      'reply',
      'interrupt 0',
      'interrupt 50',
      'interrupt 100',
      'interrupt 150',
    ])
    expect(await again.history('b')).toEqual([
      expect.objectContaining({ content: expected, unfinished: true }),
    ])
  })

  it('refuses a journal whose x entry is malformed as damage, keeping the other records', async () => {
    const path = join(await fresh(), 'c.json')
    const memory = await open({ path })
    const reply = memory.reply('c', { id: 'r' })
    reply.append('kept')
    await reply.flush()
    await memory.destroy()
    await appendFile(`${path}.journal`, '{"s":99,"x":[["c","r",5]]}\n')
    const recovered: RecoveredInfo[] = []
    const again = await open({
      path,
      onWarning: () => undefined,
      onRecovered: (info) => recovered.push(info),
    })
    expect(await again.history('c')).toEqual([expect.objectContaining({ content: 'kept', unfinished: true })])
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.message).toMatch(/damaged record.*bad extend entry/)
  })
})

describe('memory.reply() on a backend without extend', () => {
  it('writes each part as an upsert of the whole message so far', async () => {
    const kinds: string[] = []
    const memory = await open({ backend: withoutExtend(memoryBackend(), kinds), flushIntervalMs: 600_000 })
    const reply = memory.reply('c')
    reply.append('a')
    await reply.flush()
    reply.append('b')
    await reply.flush()
    await reply.end()
    await memory.flush()
    // The start (an add: the store made the id, so no stored message can have it), two parts and
    // the end: each the whole message.
    expect(kinds).toEqual(['add', 'upsert', 'upsert', 'upsert'])
    expect(await memory.history('c')).toEqual([expect.objectContaining({ content: 'ab' })])
    expect((await memory.history('c'))[0]).not.toHaveProperty('unfinished')
  })

  it('on a backend with extend, writes the creation as an add and the parts as extends', async () => {
    const kinds: string[] = []
    const inner = memoryBackend()
    const seen: Backend = {
      ...withoutExtend(inner, kinds),
      extend: true,
    }
    const memory = await open({ backend: seen, flushIntervalMs: 600_000 })
    const reply = memory.reply('c')
    await reply.flush()
    reply.append('a')
    await reply.flush()
    await reply.end()
    await memory.flush()
    expect(kinds).toEqual(['add', 'extend', 'extend'])
  })

  it('writes the creation as an upsert when the reply was given an id (it may replace a message)', async () => {
    const kinds: string[] = []
    const memory = await open({ backend: withoutExtend(memoryBackend(), kinds), flushIntervalMs: 600_000 })
    await memory.add('c', { id: 'r1', role: 'assistant', content: 'cut sh' })
    await memory.flush()
    kinds.length = 0
    const reply = memory.reply('c', { id: 'r1', content: 'cut sh' })
    reply.append('ort')
    await reply.end()
    await memory.flush()
    expect(kinds[0]).toBe('upsert')
    expect(await memory.history('c')).toEqual([expect.objectContaining({ id: 'r1', content: 'cut short' })])
  })

  it('refuses reply() with code unsupported on a backend without operations', async () => {
    const inner = memoryBackend()
    const plain: Backend = { ...withoutExtend(inner), operations: false }
    const memory = await open({ backend: plain })
    expect(() => memory.reply('c')).toThrow(expect.objectContaining({ code: 'unsupported' }))
  })
})

describe('memory.reply() when a write fails (strict)', () => {
  // A test double for the fault only: a real in-process backend whose next append rejects, as a
  // full disk would, which the file backend's own fault tests cause for real.
  function failingOnce(kinds: string[]): { backend: Backend; failNext(): void } {
    const inner = memoryBackend()
    let fail = false
    const backend: Backend = {
      ...withoutExtend(inner, kinds),
      extend: true,
      append: (batch) => {
        if (fail) {
          fail = false
          return Promise.reject(new Error('ENOSPC: no space left on device'))
        }
        for (const entry of batch) {
          for (const operation of entry.operations ?? entry.messages.map(() => ({ op: 'add' }))) {
            kinds.push(operation.op)
          }
        }
        return inner.append(batch)
      },
    }
    return { backend, failNext: () => (fail = true) }
  }

  it('rejects flush() with the error and rewrites the whole message with the next part: no gap', async () => {
    const kinds: string[] = []
    const { backend, failNext } = failingOnce(kinds)
    const memory = await open({ backend, durability: 'strict', flushIntervalMs: 600_000 })
    const reply = memory.reply('c')
    reply.append('one ')
    await reply.flush()
    reply.append('two ')
    failNext()
    await expect(reply.flush()).rejects.toMatchObject({
      code: 'io',
      message: expect.stringContaining('ENOSPC'),
    })
    reply.append('three')
    const stored = await reply.end()
    expect(stored.content).toBe('one two three')
    // The start, 'one ', then after the failed 'two ' the whole message, ended.
    expect(kinds).toEqual(['add', 'extend', 'upsert'])
    expect(await memory.history('c')).toEqual([stored])
  })

  it('leaves the reply open when end() fails; end() again stores it', async () => {
    const kinds: string[] = []
    const { backend, failNext } = failingOnce(kinds)
    const memory = await open({ backend, durability: 'strict', flushIntervalMs: 600_000 })
    const reply = memory.reply('c')
    await reply.flush()
    reply.append('all of it')
    failNext()
    await expect(reply.end()).rejects.toMatchObject({ code: 'io' })
    expect(reply.state).toBe('streaming')
    const stored = await reply.end()
    expect(stored.content).toBe('all of it')
    expect(await memory.history('c')).toEqual([stored])
  })

  it('reports a failed start on the error event and writes the whole message with the next part', async () => {
    const kinds: string[] = []
    const { backend, failNext } = failingOnce(kinds)
    const errors: unknown[] = []
    const memory = await open({
      backend,
      durability: 'strict',
      flushIntervalMs: 600_000,
      onError: (e) => errors.push(e),
    })
    failNext()
    const reply = memory.reply('c')
    reply.append('text')
    await reply.flush()
    expect(errors).toEqual([expect.objectContaining({ code: 'io' })])
    expect(kinds).toEqual(['upsert'])
    expect(await memory.history('c')).toEqual([
      expect.objectContaining({ content: 'text', unfinished: true }),
    ])
    await reply.end()
  })
})
