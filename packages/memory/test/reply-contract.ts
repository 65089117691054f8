import { afterEach, describe, expect, it } from 'vitest'
import type { Backend, Memory, MemoryOptions } from '../src/index.js'
import { isMemoryError, openMemory } from '../src/index.js'

/** A place where a backend keeps its data, for {@link describeReplyContract}. */
export interface ReplyTarget {
  /** A new backend instance over this place; called again to "reopen" a persistent backend. */
  make(): Backend
  cleanup?(): Promise<void> | void
}

// Long enough that no timer-driven write happens during a test unless the test waits for it.
const NEVER_MS = 600_000

/**
 * memory.reply() on one backend, in both durability modes. `persistent`: a new backend over the
 * same target sees what a destroyed store wrote, so what is durable can be checked by reopening.
 */
export function describeReplyContract(
  name: string,
  newTarget: () => Promise<ReplyTarget>,
  options: { persistent: boolean },
): void {
  describe(`memory.reply() contract: ${name}`, () => {
    const open: Memory[] = []
    const targets: ReplyTarget[] = []

    afterEach(async () => {
      for (const memory of open.splice(0)) await memory.destroy().catch(() => undefined)
      for (const target of targets.splice(0)) await target.cleanup?.()
    })

    async function store(
      durability: 'batched' | 'strict',
      extra: MemoryOptions = {},
      given?: ReplyTarget,
    ): Promise<{ memory: Memory; target: ReplyTarget; saves: () => number }> {
      const target = given ?? (await newTarget())
      if (given === undefined) targets.push(target)
      let saves = 0
      const memory = await openMemory({
        backend: target.make(),
        durability,
        flushIntervalMs: NEVER_MS,
        flushOnExit: false,
        onSave: () => saves++,
        ...extra,
      })
      open.push(memory)
      return { memory, target, saves: () => saves }
    }

    /** What a new store over the target holds, once the old one was destroyed (no final write). */
    async function reopened(memory: Memory, target: ReplyTarget, chat: string, extra: MemoryOptions = {}) {
      await memory.destroy()
      const again = await store('batched', extra, target)
      const messages = await again.memory.history(chat)
      await again.memory.destroy()
      return messages
    }

    it('the backend applies extend operations by id, in order with the others (if it declares extend)', async () => {
      const target = await newTarget()
      targets.push(target)
      const backend = target.make()
      if (backend.extend !== true) return
      await backend.open({ maxMessages: 1000, warn: () => undefined, recovered: () => undefined })
      try {
        const timestamp = new Date().toISOString()
        const start = { role: 'assistant', content: 'Ciao', timestamp, id: 'r', unfinished: true }
        await backend.append([
          {
            id: 'c',
            messages: [],
            operations: [
              { op: 'add', message: { role: 'user', content: 'q', timestamp, id: 'q' } },
              { op: 'upsert', message: start },
              { op: 'extend', id: 'r', text: ', come' },
            ],
          },
        ])
        await backend.append([
          { id: 'c', messages: [], operations: [{ op: 'extend', id: 'r', text: ' stai? 🎉' }] },
          { id: 'c2', messages: [], operations: [{ op: 'extend', id: 'nobody', text: 'lost' }] },
        ])
        expect((await backend.read('c'))[1]).toEqual({ ...start, content: 'Ciao, come stai? 🎉' })
        await backend.append([
          {
            id: 'c',
            messages: [],
            operations: [
              { op: 'extend', id: 'missing', text: 'ignored' },
              { op: 'extend', id: 'r', text: '', finish: true },
            ],
          },
        ])
        const { unfinished: _, ...ended } = start
        expect(await backend.read('c')).toEqual([
          { role: 'user', content: 'q', timestamp, id: 'q' },
          { ...ended, content: 'Ciao, come stai? 🎉' },
        ])
        expect(await backend.read('c2')).toEqual([])
      } finally {
        await backend.close()
      }
      if (!options.persistent) return
      const again = target.make()
      await again.open({ maxMessages: 1000, warn: () => undefined, recovered: () => undefined })
      try {
        expect((await again.read('c'))[1]).toEqual({
          role: 'assistant',
          content: 'Ciao, come stai? 🎉',
          timestamp: expect.any(String),
          id: 'r',
        })
      } finally {
        await again.close()
      }
    })

    for (const durability of ['batched', 'strict'] as const) {
      describe(durability, () => {
        it('streams a reply: history() shows the text so far, end() stores it without the mark', async () => {
          const { memory } = await store(durability)
          await memory.add('c', { role: 'user', content: 'Ciao!' })
          const reply = memory.reply('c', { role: 'assistant', model: 'llama3' })
          expect(reply.id).toMatch(/^[0-9a-f-]{36}$/)
          expect(reply.conversation).toBe('c')
          for (const delta of ['Ciao', ', come ', 'stai', '? 🎉']) reply.append(delta)
          expect(reply.content).toBe('Ciao, come stai? 🎉')
          const during = await memory.history('c')
          expect(during.map((m) => m.content)).toEqual(['Ciao!', 'Ciao, come stai? 🎉'])
          expect(during[1]).toMatchObject({
            id: reply.id,
            role: 'assistant',
            model: 'llama3',
            unfinished: true,
          })
          const stored = await reply.end()
          expect(reply.state).toBe('ended')
          expect(stored).toMatchObject({ id: reply.id, content: 'Ciao, come stai? 🎉', model: 'llama3' })
          expect(stored).not.toHaveProperty('unfinished')
          await memory.flush()
          const after = await memory.history('c')
          expect(after).toHaveLength(2)
          expect(after[1]).toEqual(stored)
          expect(await memory.context('c')).toBe('user: Ciao!\nassistant: Ciao, come stai? 🎉')
        })

        it('writes no part before flushIntervalMs, whatever the number of deltas; flush() writes one', async () => {
          const { memory, saves } = await store(durability)
          const reply = memory.reply('c')
          await memory.flush()
          const before = saves()
          for (let i = 0; i < 2000; i++) reply.append(`${i} `)
          // Let any write that was (wrongly) started run.
          await new Promise((resolve) => setTimeout(resolve, 50))
          expect(saves()).toBe(before)
          await reply.flush()
          expect(saves()).toBe(before + 1)
          await reply.flush()
          expect(saves()).toBe(before + 1)
        })

        it('writes the parts on its own every flushIntervalMs', async () => {
          const { memory, saves } = await store(durability, { flushIntervalMs: 20 })
          const reply = memory.reply('c')
          reply.append('one ')
          reply.append('two')
          await expect.poll(() => saves(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1)
          await memory.flush()
          const stored = await memory.history('c')
          expect(stored[0]).toMatchObject({ content: 'one two', unfinished: true })
        })

        it('counts the reply in stats() from the start', async () => {
          const { memory } = await store(durability)
          const reply = memory.reply('c')
          reply.append('text')
          const stats = await memory.stats()
          expect(stats.conversations).toBe(1)
          expect(stats.messages).toBe(1)
          await reply.end()
        })

        it('history({ maxTokens }) picks with the unsent text counted', async () => {
          const { memory } = await store(durability)
          await memory.add('c', { role: 'user', content: 'short' })
          const reply = memory.reply('c')
          reply.append('word '.repeat(400))
          const picked = await memory.history('c', { maxTokens: 50, onOverBudget: () => undefined })
          // The reply alone is over budget: it is returned whole, and alone.
          expect(picked).toHaveLength(1)
          expect(picked[0]?.content).toBe('word '.repeat(400))
          await reply.end()
        })

        it('abort() keeps the text, marked unfinished and aborted, with its reason', async () => {
          const { memory } = await store(durability)
          const reply = memory.reply('c')
          reply.append('Half a')
          const stored = await reply.abort(new Error('the user pressed stop'))
          expect(reply.state).toBe('aborted')
          expect(stored).toMatchObject({
            content: 'Half a',
            unfinished: true,
            aborted: true,
            abortReason: 'the user pressed stop',
          })
          await memory.flush()
          expect((await memory.history('c'))[0]).toEqual(stored)
          const long = memory.reply('c')
          expect((await long.abort('x'.repeat(500))).abortReason).toBe('x'.repeat(200))
          const plain = memory.reply('c')
          expect(await plain.abort()).not.toHaveProperty('abortReason')
          const refused = memory.reply('c')
          await expect(refused.abort(42 as never)).rejects.toThrow(
            /reason must be a string or an Error, got 42/,
          )
          expect(refused.state).toBe('streaming')
          await refused.end()
        })

        it('runs concurrent replies in one conversation, each in its place', async () => {
          const { memory } = await store(durability)
          const first = memory.reply('c', { id: 'r1' })
          const second = memory.reply('c', { id: 'r2', role: 'tool' })
          for (let i = 0; i < 50; i++) {
            first.append(`a${i}`)
            second.append(`b${i}`)
            if (i % 10 === 0) await first.flush()
          }
          const [one, two] = await Promise.all([first.end(), second.end()])
          await memory.flush()
          const expected = (p: string) => Array.from({ length: 50 }, (_, i) => `${p}${i}`).join('')
          expect(one.content).toBe(expected('a'))
          expect(two.content).toBe(expected('b'))
          const stored = await memory.history('c')
          expect(stored.map((m) => [m.id, m.role, m.content, m.unfinished])).toEqual([
            ['r1', 'assistant', expected('a'), undefined],
            ['r2', 'tool', expected('b'), undefined],
          ])
        })

        it('refuses bad input with typed errors, writing nothing', async () => {
          const { memory, saves } = await store(durability, { maxMessageBytes: 4096 })
          expect(() => memory.reply('c', 'hi' as never)).toThrow(TypeError)
          expect(() => memory.reply('c', { role: 7 as never })).toThrow(
            /message.role must be a non-empty string/,
          )
          expect(() => memory.reply('', {})).toThrow(RangeError)
          expect(() => memory.reply('c', { content: 42 as never })).toThrow(
            /message.content must be a string/,
          )
          const defaults = memory.reply('c', { role: undefined, content: undefined })
          expect(defaults.content).toBe('')
          expect(await defaults.abort()).toMatchObject({ role: 'assistant', content: '' })
          const reply = memory.reply('c', { id: 'r' })
          expect(() => memory.reply('c', { id: 'r' })).toThrow(
            expect.objectContaining({ code: 'duplicate-id', message: expect.stringContaining('"r"') }),
          )
          await memory.flush()
          const written = saves()
          expect(() => reply.append(42 as never)).toThrow(/delta must be a string, got 42/)
          expect(() => reply.append(undefined as never)).toThrow(TypeError)
          reply.append('x'.repeat(3000))
          expect(() => reply.append('y'.repeat(2000))).toThrow(/above maxMessageBytes \(4096\)/)
          expect(reply.content).toBe('x'.repeat(3000))
          expect(saves()).toBe(written)
          await reply.end()
          const endedWrites = saves()
          let error: unknown
          try {
            reply.append('late')
          } catch (caught) {
            error = caught
          }
          expect(isMemoryError(error, 'closed')).toBe(true)
          expect((error as Error).message).toMatch(
            /reply "r" of conversation "c" was already ended; append\(\)/,
          )
          await expect(reply.end()).rejects.toMatchObject({ code: 'closed' })
          await expect(reply.abort()).rejects.toMatchObject({ code: 'closed' })
          await memory.flush()
          const stored = await memory.history('c')
          expect(stored.map((m) => m.content)).toEqual(['', 'x'.repeat(3000)])
          expect(saves()).toBeLessThanOrEqual(endedWrites + 1)
        })

        it('refuses a reply, and text for one, once the store is closed', async () => {
          const { memory } = await store(durability)
          const reply = memory.reply('c')
          reply.append('kept')
          await memory.close()
          expect(() => memory.reply('c')).toThrow(expect.objectContaining({ code: 'closed' }))
          expect(() => reply.append('lost')).toThrow(expect.objectContaining({ code: 'closed' }))
          await expect(reply.end()).rejects.toMatchObject({ code: 'closed' })
        })

        it('drops a reply whose conversation is cleared or whose message is removed', async () => {
          const { memory } = await store(durability)
          const cleared = memory.reply('c')
          cleared.append('before')
          await memory.clear('c')
          cleared.append('after')
          await cleared.end()
          const removed = memory.reply('d', { id: 'gone' })
          removed.append('text')
          await memory.flush()
          expect(await memory.remove('d', 'gone')).toBe(true)
          removed.append('more')
          await removed.end()
          await memory.flush()
          expect(await memory.history('c')).toEqual([])
          expect(await memory.history('d')).toEqual([])
        })

        it('drops a reply that maxMessages pushed out while it streams: later text, end() and abort() write nothing', async () => {
          const { memory, target } = await store(durability, { maxMessages: 2 })
          const contents = async () => (await memory.history('c')).map((message) => message.content)
          const ended = memory.reply('c', { id: 'ended' })
          const aborted = memory.reply('c', { id: 'aborted' })
          ended.append('first')
          aborted.append('other')
          await memory.flush()
          expect(await contents()).toEqual(['first', 'other'])
          await memory.add('c', { role: 'user', content: 'one' })
          await memory.add('c', { role: 'user', content: 'two' })
          await memory.flush()
          expect(await contents()).toEqual(['one', 'two'])
          ended.append(' second')
          await memory.flush()
          expect(await contents()).toEqual(['one', 'two'])
          expect(await ended.end()).toMatchObject({ id: 'ended', content: 'first second' })
          aborted.append(' more')
          expect(await aborted.abort('stop')).toMatchObject({ id: 'aborted', aborted: true })
          await memory.flush()
          expect(await contents()).toEqual(['one', 'two'])
          if (options.persistent)
            expect((await reopened(memory, target, 'c', { maxMessages: 2 })).map((m) => m.content)).toEqual([
              'one',
              'two',
            ])
        })

        it('a removed or cleared reply keeps its whole text for content, end() and abort(), writing none of it', async () => {
          const { memory } = await store(durability)
          const removed = memory.reply('r', { id: 'removed' })
          removed.append('s')
          await memory.flush()
          removed.append('a')
          expect(await memory.remove('r', 'removed')).toBe(true)
          removed.append('b')
          expect(removed.content).toBe('sab')
          expect(await removed.end()).toMatchObject({ id: 'removed', content: 'sab' })
          const cleared = memory.reply('c', { id: 'cleared' })
          cleared.append('x')
          await memory.clear('c')
          cleared.append('y')
          expect(await cleared.abort()).toMatchObject({ id: 'cleared', content: 'xy', aborted: true })
          await memory.flush()
          expect(await memory.history('r')).toEqual([])
          expect(await memory.history('c')).toEqual([])
        })

        it('a remove() that finds nothing leaves a reply alone: a pushed-out one still ends with its whole text', async () => {
          const { memory } = await store(durability, { maxMessages: 1 })
          const reply = memory.reply('c', { id: 'r' })
          reply.append('s')
          await memory.flush()
          reply.append('a')
          await memory.add('c', { role: 'user', content: 'after' })
          expect(await memory.remove('c', 'r')).toBe(false)
          reply.append('b')
          expect(await reply.end()).toMatchObject({ id: 'r', content: 'sab' })
          await memory.flush()
          expect((await memory.history('c')).map((m) => m.content)).toEqual(['after'])
        })

        it('reply() keeps its place behind a remove() still under way, in call order', async () => {
          const { memory } = await store(durability, { maxMessages: 10 })
          await memory.add('c', { role: 'user', content: 'm1', id: 'm1' })
          await memory.add('c', { role: 'user', content: 'x', id: 'x' })
          const removed = memory.remove('c', 'x')
          const added = memory.add('c', { role: 'user', content: 'm2', id: 'm2' })
          const reply = memory.reply('c', { id: 'r1' })
          reply.append('text')
          expect(await removed).toBe(true)
          await added
          await reply.end()
          await memory.flush()
          expect((await memory.history('c')).map((m) => m.id)).toEqual(['m1', 'm2', 'r1'])
          // With maxMessages 1 the remove still finds its message, and the reply is the one kept.
          const { memory: one } = await store(durability, { maxMessages: 1 })
          await one.add('d', { role: 'user', content: 'm1', id: 'm1' })
          const gone = one.remove('d', 'm1')
          const last = one.reply('d', { id: 'r2' })
          expect(await gone).toBe(true)
          await last.end()
          await one.flush()
          expect((await one.history('d')).map((m) => m.id)).toEqual(['r2'])
        })

        it('resumes an unfinished reply under its id, replacing it', async () => {
          const { memory } = await store(durability)
          const first = memory.reply('c', { id: 'r' })
          first.append('Once upon')
          await first.abort()
          const [stored] = await memory.history('c')
          const resumed = memory.reply('c', { ...stored, content: stored?.content })
          resumed.append(' a time')
          const done = await resumed.end()
          await memory.flush()
          expect(done).not.toHaveProperty('aborted')
          expect(await memory.history('c')).toEqual([done])
          expect(done.content).toBe('Once upon a time')
        })

        if (options.persistent) {
          it('after a crash the reply holds what was written, marked unfinished; close() writes the rest', async () => {
            const { memory, target } = await store(durability)
            const reply = memory.reply('c', { id: 'r' })
            reply.append('durable')
            await reply.flush()
            reply.append(' not yet')
            const crashed = await reopened(memory, target, 'c')
            expect(crashed).toHaveLength(1)
            expect(crashed[0]).toMatchObject({ id: 'r', content: 'durable', unfinished: true })

            const next = await store(durability, {}, target)
            const other = next.memory.reply('c', { id: 'r2' })
            other.append('handed over at close')
            await next.memory.close()
            const closed = await store('batched', {}, target)
            expect((await closed.memory.history('c')).map((m) => [m.id, m.content, m.unfinished])).toEqual([
              ['r', 'durable', true],
              ['r2', 'handed over at close', true],
            ])
          })
        }
      })
    }
  })
}
