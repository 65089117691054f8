import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { Backend, BackendContext, Memory, Message, RecoveredInfo } from '../src/index.js'
import { isMemoryError, openMemory } from '../src/index.js'

/** A place where a backend keeps its data (a temp dir, a Redis key prefix...). */
export interface ContractTarget {
  /** A new backend instance over this place; called again to "reopen" persistent backends. */
  make(): Backend
  /** Removes what the tests left behind. */
  cleanup?(): Promise<void> | void
}

/** How a backend is exercised by {@link describeBackendContract}. */
export interface ContractOptions {
  /** True when a new backend over the same target sees what a closed one wrote. */
  persistent: boolean
  /**
   * `false` for a backend that does not apply upserts and removes yet: the contract then checks
   * that `upsert()` and `remove()` reject with `unsupported` and write nothing.
   */
  operations?: false
}

// As the store hands them to a backend: every message has an id.
function message(content: string, extra: Record<string, unknown> = {}): Message {
  return { role: 'user', content, timestamp: new Date().toISOString(), id: randomUUID(), ...extra }
}

function context(
  maxMessages = 1000,
  warnings: string[] = [],
  recovered: RecoveredInfo[] = [],
): BackendContext {
  return {
    maxMessages,
    warn: (text) => warnings.push(text),
    recovered: (info) => recovered.push(info),
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

/**
 * The behaviour every backend must have, run against the backend itself and through
 * `openMemory({ backend })`. Each backend's test file calls this once.
 */
export function describeBackendContract(
  name: string,
  newTarget: () => ContractTarget | Promise<ContractTarget>,
  options: ContractOptions,
): void {
  describe(`backend contract: ${name}`, () => {
    const opened: Array<{ close(): Promise<void> }> = []
    const targets: ContractTarget[] = []

    async function target(): Promise<ContractTarget> {
      const t = await newTarget()
      targets.push(t)
      return t
    }

    async function openBackend(t: ContractTarget, maxMessages = 1000): Promise<Backend> {
      const backend = t.make()
      await backend.open(context(maxMessages))
      opened.push(backend)
      return backend
    }

    afterEach(async () => {
      for (const item of opened.splice(0)) await item.close().catch(() => undefined)
      for (const t of targets.splice(0)) await t.cleanup?.()
    })

    it('appends a batch over several conversations and reads each back in order', async () => {
      const backend = await openBackend(await target())
      const result = await backend.append([
        { id: 'a', messages: [message('a1'), message('a2')] },
        { id: 'b', messages: [message('b1')] },
      ])
      expect(result.bytes).toBeGreaterThanOrEqual(0)
      await backend.append([{ id: 'a', messages: [message('a3')] }])
      expect((await backend.read('a')).map((m) => m.content)).toEqual(['a1', 'a2', 'a3'])
      expect((await backend.read('b')).map((m) => m.content)).toEqual(['b1'])
      expect(await backend.read('unknown')).toEqual([])
    })

    it('reads the newest `limit` messages, oldest first', async () => {
      const backend = await openBackend(await target())
      await backend.append([{ id: 'a', messages: ['1', '2', '3', '4'].map((c) => message(c)) }])
      expect((await backend.read('a', 2)).map((m) => m.content)).toEqual(['3', '4'])
      expect((await backend.read('a', 10)).map((m) => m.content)).toEqual(['1', '2', '3', '4'])
    })

    it('trims each conversation to maxMessages, dropping the oldest', async () => {
      const backend = await openBackend(await target(), 3)
      await backend.append([{ id: 'a', messages: ['1', '2'].map((c) => message(c)) }])
      await backend.append([{ id: 'a', messages: ['3', '4', '5'].map((c) => message(c)) }])
      expect((await backend.read('a')).map((m) => m.content)).toEqual(['3', '4', '5'])
      const [summary] = await collect(backend.conversations())
      expect(summary?.messages).toBe(3)
    })

    it('keeps extra fields and non-ASCII text unchanged', async () => {
      const backend = await openBackend(await target())
      const original = message('Ciao! 你好 👋 \u00e8', { lang: 'it', meta: { tokens: 3, tags: ['a'] } })
      await backend.append([{ id: '42', messages: [original] }])
      expect(await backend.read('42')).toEqual([original])
    })

    it('treats __proto__, constructor and odd ids as ordinary conversations', async () => {
      const backend = await openBackend(await target())
      const ids = ['__proto__', 'constructor', 'hasOwnProperty', 'ünïcødé 🚀', 'x'.repeat(2000), '-100123']
      await backend.append(ids.map((id) => ({ id, messages: [message(`for ${id.slice(0, 10)}`)] })))
      for (const id of ids) {
        expect((await backend.read(id)).map((m) => m.content)).toEqual([`for ${id.slice(0, 10)}`])
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.getPrototypeOf({})).toBe(Object.prototype)
      const listed = (await collect(backend.conversations())).map((s) => s.id).sort()
      expect(listed).toEqual([...ids].sort())
    })

    it('clears a conversation and reports whether it existed', async () => {
      const backend = await openBackend(await target())
      await backend.append([
        { id: 'a', messages: [message('x')] },
        { id: 'b', messages: [message('y')] },
      ])
      expect(await backend.clear('a')).toBe(true)
      expect(await backend.clear('a')).toBe(false)
      expect(await backend.read('a')).toEqual([])
      expect((await collect(backend.conversations())).map((s) => s.id)).toEqual(['b'])
    })

    it('lists conversations with their size and newest timestamp', async () => {
      const backend = await openBackend(await target())
      const last = { ...message('b2'), timestamp: '2030-01-02T03:04:05.000Z' }
      await backend.append([
        { id: 'a', messages: [message('a1')] },
        { id: 'b', messages: [message('b1'), last] },
      ])
      const listed = (await collect(backend.conversations())).sort((x, y) => x.id.localeCompare(y.id))
      expect(listed.map((s) => [s.id, s.messages])).toEqual([
        ['a', 1],
        ['b', 2],
      ])
      expect(listed[1]?.lastTimestamp).toBe('2030-01-02T03:04:05.000Z')
    })

    it('prunes conversations whose newest message is older than the cutoff (if implemented)', async () => {
      const backend = await openBackend(await target())
      await backend.append([
        { id: 'old', messages: [{ ...message('o'), timestamp: '2020-01-01T00:00:00.000Z' }] },
        { id: 'new', messages: [message('n')] },
      ])
      if (backend.prune === undefined) return
      const removed = await backend.prune(Date.parse('2024-01-01T00:00:00.000Z'))
      expect(removed).toEqual(['old'])
      expect((await collect(backend.conversations())).map((s) => s.id)).toEqual(['new'])
    })

    it('reports counts in stats (if implemented)', async () => {
      const backend = await openBackend(await target())
      await backend.append([
        { id: 'a', messages: [message('1'), message('2')] },
        { id: 'b', messages: [message('3')] },
      ])
      if (backend.stats === undefined) return
      const stats = await backend.stats()
      expect(stats.conversations).toBe(2)
      expect(stats.messages).toBe(3)
    })

    it('rejects calls after close with code closed, and close is idempotent', async () => {
      const backend = await openBackend(await target())
      await backend.close()
      await backend.close()
      await expect(backend.read('a')).rejects.toSatisfy((error) => isMemoryError(error, 'closed'))
      await expect(backend.append([{ id: 'a', messages: [message('x')] }])).rejects.toSatisfy((error) =>
        isMemoryError(error, 'closed'),
      )
    })

    if (options.persistent) {
      it('a new backend on the same target sees everything a closed one wrote', async () => {
        const t = await target()
        const first = await openBackend(t)
        await first.append([{ id: '__proto__', messages: [message('p1'), message('p2', { extra: true })] }])
        await first.append([{ id: '7', messages: [message('s1')] }])
        await first.clear('7')
        await first.append([{ id: '8', messages: [message('e1')] }])
        await first.close()
        const second = await openBackend(t)
        expect((await second.read('__proto__')).map((m) => m.content)).toEqual(['p1', 'p2'])
        expect((await second.read('__proto__'))[1]?.extra).toBe(true)
        expect(await second.read('7')).toEqual([])
        expect((await second.read('8')).map((m) => m.content)).toEqual(['e1'])
      })
    }

    if (options.operations !== false) {
      it('applies upserts and removes by message id, in order with appends, then trims', async () => {
        const t = await target()
        const backend = await openBackend(t, 4)
        expect(backend.operations).toBe(true)
        const [m1, m2, m3] = [
          message('1', { id: 'm1' }),
          message('2', { id: 'm2' }),
          message('3', { id: 'm3' }),
        ]
        await backend.append([{ id: 'c', messages: [m1, m2, m3] }])
        await backend.append([
          {
            id: 'c',
            messages: [],
            operations: [
              { op: 'upsert', message: message('2 edited', { id: 'm2' }) },
              { op: 'remove', id: 'm1' },
              { op: 'remove', id: 'unknown' },
              { op: 'upsert', message: message('4', { id: 'm4' }) },
              { op: 'add', message: message('5', { id: 'm5' }) },
            ],
          },
          { id: 'd', messages: [message('d1', { id: 'm1' })] },
        ])
        const expected = [
          ['m2', '2 edited'],
          ['m3', '3'],
          ['m4', '4'],
          ['m5', '5'],
        ]
        const seen = async (b: Backend) => (await b.read('c')).map((m) => [m.id, m.content])
        expect(await seen(backend)).toEqual(expected)
        // A remove of an id of another conversation leaves that one alone.
        expect((await backend.read('d')).map((m) => m.id)).toEqual(['m1'])
        await backend.append([
          { id: 'c', messages: [], operations: [{ op: 'add', message: message('6', { id: 'm6' }) }] },
        ])
        expect((await seen(backend)).map(([id]) => id)).toEqual(['m3', 'm4', 'm5', 'm6'])
        expect((await backend.stats?.())?.messages ?? 5).toBe(5)
        if (options.persistent) {
          await backend.close()
          const again = await openBackend(t, 4)
          expect((await seen(again)).map(([id]) => id)).toEqual(['m3', 'm4', 'm5', 'm6'])
          expect((await again.read('d')).map((m) => m.id)).toEqual(['m1'])
        }
      })
    }

    if (options.operations !== false) {
      it('keeps a conversation to maxMessages after each change of a batch: a later upsert or remove never finds a message an earlier add pushed out', async () => {
        const t = await target()
        const backend = await openBackend(t, 3)
        await backend.append([{ id: 'c', messages: ['c0', 'c1', 'c2'].map((id) => message(id, { id })) }])
        await backend.append([
          {
            id: 'c',
            messages: [],
            operations: [
              { op: 'add', message: message('c3', { id: 'c3' }) },
              { op: 'remove', id: 'c3' },
              // c0 was pushed out by c3: appended anew, as it would be in a batch of its own.
              { op: 'upsert', message: message('c0 again', { id: 'c0' }) },
            ],
          },
        ])
        const seen = async (b: Backend) => (await b.read('c')).map((m) => m.content)
        expect(await seen(backend)).toEqual(['c1', 'c2', 'c0 again'])
        if (options.persistent) {
          await backend.close()
          // Reopened with a smaller limit: the list is trimmed before the batch's changes apply.
          const smaller = await openBackend(t, 2)
          await smaller.append([
            {
              id: 'c',
              messages: [],
              operations: [{ op: 'upsert', message: message('c1 again', { id: 'c1' }) }],
            },
          ])
          expect(await seen(smaller)).toEqual(['c0 again', 'c1 again'])
        }
      })
    }

    if (options.operations === false) {
      it('rejects upsert() and remove() with code unsupported, writing nothing', async () => {
        const memory = await openMemory({ backend: (await target()).make(), flushOnExit: false })
        opened.push(memory)
        const m = await memory.add('c', { role: 'user', content: 'kept' })
        for (const attempt of [
          memory.upsert('c', { id: m.id, role: 'user', content: 'changed' }),
          memory.remove('c', m.id),
        ]) {
          const error = await attempt.catch((e: unknown) => e)
          expect(isMemoryError(error, 'unsupported')).toBe(true)
        }
        expect((await memory.history('c')).map((x) => x.content)).toEqual(['kept'])
      })
    }

    describe('message ids, upsert and remove through openMemory', () => {
      for (const durability of ['batched', 'strict'] as const) {
        it(`gives every message an id and resolves add() with it (${durability})`, async () => {
          const t = await target()
          const memory = await openMemory({ backend: t.make(), flushOnExit: false, durability })
          opened.push(memory)
          const generated = await memory.add('c', { role: 'user', content: 'Ciao' })
          expect(generated.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
          const given = await memory.add('c', { role: 'user', content: 'again', id: 'tg-42' })
          expect(given.id).toBe('tg-42')
          expect((await memory.history('c')).map((m) => m.id)).toEqual([generated.id, 'tg-42'])
          await memory.close()
          if (options.persistent) {
            const again = await openMemory({ backend: t.make(), flushOnExit: false })
            opened.push(again)
            expect((await again.history('c')).map((m) => m.id)).toEqual([generated.id, 'tg-42'])
          }
        })

        it.skipIf(options.operations === false)(
          `remove() keeps its place among changes not awaited after it (${durability})`,
          async () => {
            const t = await target()
            const memory = await openMemory({
              backend: t.make(),
              flushOnExit: false,
              durability,
              maxMessages: 3,
            })
            opened.push(memory)
            for (const id of ['x', 'y', 'z']) await memory.add('c', { role: 'user', content: id, id })
            // Not awaited: the add comes after the remove, so x is still there when y goes.
            const removed = memory.remove('c', 'y')
            const added = memory.add('c', { role: 'user', content: 'w', id: 'w' })
            expect(await removed).toBe(true)
            await added
            const ids = async (m: Memory) => (await m.history('c')).map((x) => x.id)
            expect(await ids(memory)).toEqual(['x', 'z', 'w'])
            // A remove of an id not there yet resolves false and does not take the upsert after it.
            const absent = memory.remove('c', 'v')
            const upserted = memory.upsert('c', { id: 'v', role: 'user', content: 'v' })
            expect(await absent).toBe(false)
            await upserted
            expect(await ids(memory)).toEqual(['z', 'w', 'v'])
            // Several in a row, with addMany(), upsert() and add() between: call order throughout.
            const calls = [
              memory.remove('c', 'z'),
              memory.addMany('c', [{ role: 'user', content: 'a', id: 'a' }]),
              memory.remove('c', 'w'),
              memory.upsert('c', { id: 'v', role: 'user', content: 'v2' }),
              memory.upsert('c', { id: 'n', role: 'user', content: 'n' }),
              memory.add('c', { role: 'user', content: 'b', id: 'b' }),
            ]
            await Promise.all(calls)
            expect(await ids(memory)).toEqual(['a', 'n', 'b'])
            await memory.close()
            if (options.persistent) {
              const again = await openMemory({ backend: t.make(), flushOnExit: false, maxMessages: 3 })
              opened.push(again)
              expect(await ids(again)).toEqual(['a', 'n', 'b'])
            }
          },
        )

        it.skipIf(options.operations === false)(
          `clear() keeps its place among changes not awaited, before and after it (${durability})`,
          async () => {
            const t = await target()
            const memory = await openMemory({ backend: t.make(), flushOnExit: false, durability })
            opened.push(memory)
            const ids = async (id: string) => (await memory.history(id)).map((x) => x.id)
            await memory.add('a', { role: 'user', content: 'm1', id: 'm1' })
            // An add made after the clear, not awaited, is not erased by it.
            const [, cleared, added] = await Promise.all([
              memory.upsert('b', { role: 'user', content: 'b1', id: 'b1' }),
              memory.clear('a'),
              memory.add('a', { role: 'user', content: 'm2', id: 'm2' }),
            ])
            expect(cleared).toBe(true)
            expect(added.id).toBe('m2')
            expect(await ids('a')).toEqual(['m2'])
            // A remove made before the clear finds its message; an upsert before it is cleared.
            const [removed] = await Promise.all([
              memory.remove('a', 'm2'),
              memory.upsert('a', { role: 'user', content: 'u1', id: 'u1' }),
              memory.clear('a'),
            ])
            expect(removed).toBe(true)
            expect(await ids('a')).toEqual([])
            expect(await ids('b')).toEqual(['b1'])
            await memory.close()
            if (options.persistent) {
              const again = await openMemory({ backend: t.make(), flushOnExit: false })
              opened.push(again)
              expect(await again.history('a')).toEqual([])
              expect((await again.history('b')).map((x) => x.id)).toEqual(['b1'])
            }
          },
        )

        it.skipIf(options.operations === false)(
          `flush() writes the changes not awaited that wait behind a remove() or clear() (${durability})`,
          async () => {
            const t = await target()
            const open = () =>
              openMemory({
                backend: t.make(),
                flushOnExit: false,
                durability,
                saveEvery: 1000,
                flushIntervalMs: 600_000,
              })
            const memory = await open()
            opened.push(memory)
            await memory.add('a', { role: 'user', content: 'a1', id: 'a1' })
            await memory.flush()
            // Each add waits for the remove or clear before it, and was made before flush().
            const calls = [
              memory.remove('a', 'a1'),
              memory.add('a', { role: 'user', content: 'a2', id: 'a2' }),
              memory.clear('b'),
              memory.add('b', { role: 'user', content: 'b1', id: 'b1' }),
            ]
            await memory.flush()
            expect((await memory.stats()).pending).toBe(0)
            await Promise.all(calls)
            if (!options.persistent) return
            // Nothing more is written: what the store holds is what flush() wrote.
            await memory.destroy()
            const again = await open()
            opened.push(again)
            expect((await again.history('a')).map((x) => x.id)).toEqual(['a2'])
            expect((await again.history('b')).map((x) => x.id)).toEqual(['b1'])
          },
        )

        it.skipIf(options.operations === false)(
          `close() writes the changes not awaited that wait behind a remove() or clear() (${durability})`,
          async () => {
            const t = await target()
            const open = () => openMemory({ backend: t.make(), flushOnExit: false, durability })
            const memory = await open()
            opened.push(memory)
            await memory.add('a', { role: 'user', content: 'a1', id: 'a1' })
            // Made while the store is open, each after a remove or clear of its conversation.
            const calls = [
              memory.remove('a', 'a1'),
              memory.add('a', { role: 'user', content: 'a2', id: 'a2' }),
              memory.upsert('a', { role: 'user', content: 'a3', id: 'a3' }),
              memory.clear('b'),
              memory.addMany('b', [{ role: 'user', content: 'b1', id: 'b1' }]),
              memory.remove('c', 'none'),
              memory.add('c', { role: 'user', content: 'c1', id: 'c1' }),
            ]
            const closing = memory.close()
            // A call made while the store closes is still refused.
            const late = memory.add('a', { role: 'user', content: 'late' })
            await closing
            const outcomes = await Promise.allSettled(calls)
            expect(outcomes.map((outcome) => outcome.status)).toEqual(calls.map(() => 'fulfilled'))
            await expect(late).rejects.toSatisfy((error) => isMemoryError(error, 'closed'))
            if (!options.persistent) return
            const again = await open()
            opened.push(again)
            const ids = async (id: string) => (await again.history(id)).map((x) => x.id)
            expect(await ids('a')).toEqual(['a2', 'a3'])
            expect(await ids('b')).toEqual(['b1'])
            expect(await ids('c')).toEqual(['c1'])
          },
        )

        it.skipIf(options.operations === false)(
          `a message maxMessages pushed out is gone for remove() and upsert(), pending or written (${durability})`,
          async () => {
            const t = await target()
            const open = () =>
              openMemory({ backend: t.make(), flushOnExit: false, durability, maxMessages: 5 })
            const memory = await open()
            opened.push(memory)
            for (let i = 0; i < 5; i++) await memory.add('c', { role: 'user', content: `c${i}`, id: `c${i}` })
            await memory.flush()
            // Pending in a batched store: c0 is out of history() already, and stays out.
            await memory.add('c', { role: 'user', content: 'c5', id: 'c5' })
            const ids = async (m: Memory) => (await m.history('c')).map((x) => x.id)
            expect(await ids(memory)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5'])
            expect(await memory.remove('c', 'c5')).toBe(true)
            expect(await ids(memory)).toEqual(['c1', 'c2', 'c3', 'c4'])
            expect(await memory.remove('c', 'c0')).toBe(false)
            await memory.upsert('c', { id: 'c0', role: 'user', content: 'c0 again' })
            expect(await ids(memory)).toEqual(['c1', 'c2', 'c3', 'c4', 'c0'])
            await memory.close()
            if (options.persistent) {
              const again = await open()
              opened.push(again)
              expect(await ids(again)).toEqual(['c1', 'c2', 'c3', 'c4', 'c0'])
              expect((await again.history('c')).at(-1)?.content).toBe('c0 again')
            }
          },
        )

        it.skipIf(options.operations === false || !options.persistent)(
          `a message older than a lowered maxMessages is gone for remove(), which writes nothing (${durability})`,
          async () => {
            const t = await target()
            const open = (maxMessages: number) =>
              openMemory({
                backend: t.make(),
                flushOnExit: false,
                durability,
                maxMessages,
                onWarning: () => {},
              })
            const first = await open(5)
            opened.push(first)
            for (let i = 0; i < 5; i++) await first.add('c', { role: 'user', content: `c${i}`, id: `c${i}` })
            await first.close()
            const ids = async (m: Memory) => (await m.history('c')).map((x) => x.id)
            // Written with a larger limit: history() shows the newest 2, and c0 is not one of them.
            const memory = await open(2)
            opened.push(memory)
            expect(await ids(memory)).toEqual(['c3', 'c4'])
            expect(await memory.remove('c', 'c0')).toBe(false)
            expect(await ids(memory)).toEqual(['c3', 'c4'])
            await memory.close()
            // Nothing was written, so the conversation is as long as before, for a larger limit.
            const larger = await open(5)
            opened.push(larger)
            expect(await ids(larger)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4'])
            await larger.close()
            // A message history() shows is removed, and the write trims the conversation.
            const again = await open(2)
            opened.push(again)
            expect(await again.remove('c', 'c3')).toBe(true)
            expect(await ids(again)).toEqual(['c4'])
            await again.close()
            const last = await open(5)
            opened.push(last)
            expect(await ids(last)).toEqual(['c4'])
          },
        )

        it.skipIf(options.operations === false)(
          `upserts a streamed reply and removes by id, pending or written (${durability})`,
          async () => {
            const t = await target()
            const memory = await openMemory({
              backend: t.make(),
              flushOnExit: false,
              durability,
              saveEvery: 3,
            })
            opened.push(memory)
            const question = await memory.add('c', { role: 'user', content: 'Ciao' })
            let partial = ''
            for (const piece of ['Ci', 'ao', '!', ' Come', ' va?']) {
              partial += piece
              const stored = await memory.upsert('c', { id: 'reply', role: 'assistant', content: partial })
              expect(stored).toMatchObject({ id: 'reply', content: partial })
            }
            const extra = await memory.add('c', { role: 'user', content: 'oops' })
            expect((await memory.history('c')).map((m) => [m.id, m.content])).toEqual([
              [question.id, 'Ciao'],
              ['reply', 'Ciao! Come va?'],
              [extra.id, 'oops'],
            ])
            expect(await memory.remove('c', extra.id)).toBe(true)
            expect(await memory.remove('c', extra.id)).toBe(false)
            expect(await memory.remove('other', question.id)).toBe(false)
            await memory.flush()
            expect(await memory.remove('c', question.id)).toBe(true)
            expect((await memory.history('c', { limit: 5 })).map((m) => m.content)).toEqual([
              'Ciao! Come va?',
            ])
            expect((await memory.stats()).messages + (await memory.stats()).pending).toBeGreaterThanOrEqual(1)
            await memory.close()
            if (options.persistent) {
              const again = await openMemory({ backend: t.make(), flushOnExit: false })
              opened.push(again)
              expect((await again.history('c')).map((m) => [m.id, m.content])).toEqual([
                ['reply', 'Ciao! Come va?'],
              ])
              await again.upsert('c', { id: 'reply', role: 'assistant', content: 'edited later' })
              expect((await again.history('c')).map((m) => m.content)).toEqual(['edited later'])
            }
          },
        )
      }

      it.skipIf(options.operations === false)(
        'refuses bad input with a clear error and writes nothing',
        async () => {
          const memory = await openMemory({
            backend: (await target()).make(),
            flushOnExit: false,
            saveEvery: 100,
          })
          opened.push(memory)
          await memory.add('c', { role: 'user', content: 'first', id: 'same' })
          const duplicate = await memory
            .add('c', { role: 'user', content: 'second', id: 'same' })
            .catch((e) => e)
          expect(isMemoryError(duplicate, 'duplicate-id')).toBe(true)
          expect((duplicate as Error).message).toMatch(/message id "same" is already used/)
          // The same id in another conversation is another message.
          await memory.add('d', { role: 'user', content: 'elsewhere', id: 'same' })
          await expect(memory.upsert('c', { role: 'user', content: 'x' } as never)).rejects.toThrow(
            /message.id is required by upsert\(\)/,
          )
          await expect(memory.upsert('c', { role: 'user', content: 'x', id: 5 } as never)).rejects.toThrow(
            new TypeError('message.id must be a non-empty string, got 5'),
          )
          await expect(memory.remove('c', '' as never)).rejects.toThrow(
            new TypeError('messageId must be a non-empty string, got ""'),
          )
          await expect(
            memory.upsert('c', { role: 'user', content: 'x', id: 'big', n: 10n } as never),
          ).rejects.toThrow(/message.n is a bigint \(10n\)/)
          await memory.flush()
          expect((await memory.history('c')).map((m) => m.content)).toEqual(['first'])
          expect((await memory.history('d')).map((m) => m.content)).toEqual(['elsewhere'])
        },
      )
    })

    describe('through openMemory', () => {
      it('adds, reads history and context, clears', async () => {
        const memory = await openMemory({ backend: (await target()).make(), flushOnExit: false })
        opened.push(memory)
        const stored = await memory.add(123456789, { role: 'user', content: 'Ciao!' })
        expect(stored.content).toBe('Ciao!')
        expect(Number.isNaN(Date.parse(stored.timestamp))).toBe(false)
        await memory.add('123456789', { role: 'assistant', content: 'Ciao, come va?' })
        await memory.add(123456789, { role: 'user', content: 'Bene' })
        expect((await memory.history(123456789)).map((m) => m.content)).toEqual([
          'Ciao!',
          'Ciao, come va?',
          'Bene',
        ])
        expect(await memory.context(123456789, { limit: 2 })).toBe('assistant: Ciao, come va?\nuser: Bene')
        expect(await memory.history('nobody')).toEqual([])
        expect(await memory.clear(123456789)).toBe(true)
        expect(await memory.clear(123456789)).toBe(false)
        expect(await memory.history(123456789)).toEqual([])
      })

      it('sees pending and written messages as one history in batched mode', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          saveEvery: 3,
          flushOnExit: false,
        })
        opened.push(memory)
        for (let i = 0; i < 10; i++) await memory.add('c', { role: 'user', content: String(i) })
        expect((await memory.history('c')).map((m) => m.content)).toEqual(
          Array.from({ length: 10 }, (_, i) => String(i)),
        )
        expect((await memory.history('c', { limit: 4 })).map((m) => m.content)).toEqual(['6', '7', '8', '9'])
        const stats = await memory.stats()
        expect(stats.saves).toBeGreaterThanOrEqual(1)
        expect(stats.saves).toBeLessThanOrEqual(3)
        expect(stats.messages).toBe(10)
        expect(stats.conversations).toBe(1)
        await memory.flush()
        const after = await memory.stats()
        expect(after.pending).toBe(0)
        expect(after.messages).toBe(10)
        expect(after.conversations).toBe(1)
        expect(after.averagePerConversation).toBe(10)
      })

      it('stats() counts pending messages as history() shows them, new conversations included', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          saveEvery: 1000,
          flushIntervalMs: 60_000,
          flushOnExit: false,
        })
        opened.push(memory)
        await memory.add('a', { role: 'user', content: 'a1' })
        await memory.add('a', { role: 'assistant', content: 'a2' })
        await memory.add('b', { role: 'user', content: 'b1' })
        expect((await memory.history('a')).length + (await memory.history('b')).length).toBe(3)
        const stats = await memory.stats()
        expect(stats).toMatchObject({
          conversations: 2,
          messages: 3,
          pending: 3,
          averagePerConversation: 1.5,
        })
        await memory.flush()
        expect(await memory.stats()).toMatchObject({ conversations: 2, messages: 3, pending: 0 })
      })

      it('stats() counts pending messages up to maxMessages per conversation, as history() does', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          maxMessages: 3,
          saveEvery: 1000,
          flushIntervalMs: 60_000,
          flushOnExit: false,
        })
        opened.push(memory)
        await memory.add('a', { role: 'user', content: 'a1' })
        await memory.add('a', { role: 'user', content: 'a2' })
        await memory.flush()
        await memory.add('a', { role: 'user', content: 'a3' })
        await memory.add('a', { role: 'user', content: 'a4' })
        for (let i = 0; i < 5; i++) await memory.add('c', { role: 'user', content: `c${i}` })
        expect((await memory.history('a')).map((m) => m.content)).toEqual(['a2', 'a3', 'a4'])
        expect((await memory.history('c')).length).toBe(3)
        expect(await memory.stats()).toMatchObject({ conversations: 2, messages: 6, pending: 7 })
        await memory.flush()
        expect(await memory.stats()).toMatchObject({ conversations: 2, messages: 6, pending: 0 })
      })

      it.skipIf(options.operations === false)(
        'stats() counts a conversation once while new messages are pending for it after remove() emptied it',
        async () => {
          const memory = await openMemory({
            backend: (await target()).make(),
            saveEvery: 1000,
            flushIntervalMs: 60_000,
            flushOnExit: false,
          })
          opened.push(memory)
          await memory.add('a', { role: 'user', content: 'a1', id: 'a1' })
          await memory.add('b', { role: 'user', content: 'b1' })
          await memory.flush()
          expect(await memory.remove('a', 'a1')).toBe(true)
          await memory.flush()
          await memory.add('a', { role: 'user', content: 'a2' })
          expect(await memory.stats()).toMatchObject({ conversations: 2, messages: 2, pending: 1 })
          await memory.flush()
          expect(await memory.stats()).toMatchObject({ conversations: 2, messages: 2, pending: 0 })
        },
      )

      it('history({ maxTokens }) returns the newest messages that fit, stored and pending, oldest first', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          saveEvery: 1000,
          flushIntervalMs: 60_000,
          flushOnExit: false,
        })
        opened.push(memory)
        // Past the first windows of the read, so the budget is filled from several reads.
        for (let i = 0; i < 400; i++) await memory.add('t', { role: 'user', content: String(i) })
        await memory.flush()
        for (let i = 400; i < 403; i++) await memory.add('t', { role: 'user', content: String(i) })
        const ten = () => 10
        const contents = async (options: Parameters<typeof memory.history>[1]) =>
          (await memory.history('t', options)).map((m) => m.content)
        const tail = (n: number) => Array.from({ length: n }, (_, i) => String(403 - n + i))
        expect(await contents({ maxTokens: 25, countTokens: ten })).toEqual(tail(2))
        expect(await contents({ maxTokens: 3000, countTokens: ten })).toEqual(tail(300))
        expect(await contents({ maxTokens: 100_000, countTokens: ten })).toEqual(tail(403))
        expect(await contents({ maxTokens: 3000, countTokens: ten, limit: 7 })).toEqual(tail(7))
        expect(await memory.context('t', { maxTokens: 20, countTokens: ten })).toBe('user: 401\nuser: 402')
      })

      it('makes at most one write per saveEvery messages', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          saveEvery: 5,
          flushIntervalMs: 60_000,
          flushOnExit: false,
        })
        opened.push(memory)
        const saves: number[] = []
        memory.on('save', (info) => saves.push(info.messages))
        for (let i = 0; i < 100; i++) await memory.add(`u${i % 7}`, { role: 'user', content: `m${i}` })
        await memory.flush()
        expect(saves.length).toBeLessThanOrEqual(20)
        expect(saves.reduce((a, b) => a + b, 0)).toBe(100)
      })

      it('group-commits concurrent strict adds and resolves each once durable', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          durability: 'strict',
          flushOnExit: false,
        })
        opened.push(memory)
        let saves = 0
        memory.on('save', () => saves++)
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => memory.add(`w${i % 5}`, { role: 'user', content: String(i) })),
        )
        expect(saves).toBeLessThan(50)
        const stats = await memory.stats()
        expect(stats.pending).toBe(0)
        expect(stats.messages).toBe(50)
        expect((await memory.history('w0')).map((m) => m.content)).toEqual([
          '0',
          '5',
          '10',
          '15',
          '20',
          '25',
          '30',
          '35',
          '40',
          '45',
        ])
      })

      it('prunes idle conversations', async () => {
        const memory = await openMemory({ backend: (await target()).make(), flushOnExit: false })
        opened.push(memory)
        await memory.add('old', { role: 'user', content: 'x', timestamp: '2020-01-01T00:00:00' })
        await memory.add('new', { role: 'user', content: 'y' })
        expect(await memory.prune({ olderThanDays: 30 })).toBe(1)
        expect(await memory.history('old')).toEqual([])
        expect((await memory.history('new')).length).toBe(1)
      })

      it('rejects use after close with MemoryError closed; close is idempotent', async () => {
        const memory = await openMemory({ backend: (await target()).make(), flushOnExit: false })
        await memory.add('a', { role: 'user', content: 'x' })
        await Promise.all([memory.close(), memory.close()])
        await memory.close()
        await expect(memory.add('a', { role: 'user', content: 'y' })).rejects.toSatisfy((error) =>
          isMemoryError(error, 'closed'),
        )
        await expect(memory.history('a')).rejects.toSatisfy((error) => isMemoryError(error, 'closed'))
      })

      it('writes a batch past the byte bound in several calls, each within maxBatchBytes, in order', async () => {
        const backend = (await target()).make()
        const append = backend.append.bind(backend)
        const calls: number[] = []
        // Observes what the store hands over; the backend itself writes it.
        backend.append = (batch) => {
          let bytes = 0
          for (const entry of batch)
            for (const m of entry.messages) bytes += Buffer.byteLength(JSON.stringify(m))
          calls.push(bytes)
          return append(batch)
        }
        const memory = await openMemory({
          backend,
          maxMessageBytes: 4096,
          maxBatchBytes: 8192,
          saveEvery: 1000,
          flushIntervalMs: 600_000,
          flushOnExit: false,
        })
        opened.push(memory)
        const text = 'è'.repeat(1000)
        for (let i = 0; i < 30; i++) await memory.add(`c${i % 3}`, { role: 'user', content: `${i} ${text}` })
        await memory.flush()
        expect(calls.length).toBeGreaterThanOrEqual(6)
        for (const bytes of calls) expect(bytes).toBeLessThanOrEqual(8192)
        for (let c = 0; c < 3; c++) {
          const expected = Array.from({ length: 10 }, (_, k) => `${c + 3 * k} ${text}`)
          expect((await memory.history(`c${c}`)).map((m) => m.content)).toEqual(expected)
        }
        expect((await memory.stats()).messages).toBe(30)
      })

      it('await add() in a loop past maxPending waits for room instead of rejecting', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          maxPending: 20,
          flushOnExit: false,
        })
        opened.push(memory)
        for (let i = 0; i < 300; i++) await memory.add(`u${i % 3}`, { role: 'user', content: String(i) })
        await memory.flush()
        expect((await memory.stats()).messages).toBe(300)
        expect((await memory.history('u1')).map((m) => m.content)).toEqual(
          Array.from({ length: 100 }, (_, k) => String(1 + 3 * k)),
        )
      })

      for (const durability of ['batched', 'strict'] as const) {
        it(`addMany() adds the messages in order and resolves with them, trimmed to maxMessages (${durability})`, async () => {
          const t = await target()
          const memory = await openMemory({
            backend: t.make(),
            durability,
            maxMessages: 5,
            flushOnExit: false,
          })
          opened.push(memory)
          await memory.add('a', { role: 'user', content: 'first' })
          const inputs = Array.from({ length: 8 }, (_, i) => ({ role: 'user', content: String(i) }))
          const stored = await memory.addMany('a', [
            ...inputs,
            { role: 'assistant', content: '8', id: 'given' },
          ])
          expect(stored.map((m) => m.content)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8'])
          expect(new Set(stored.map((m) => m.id)).size).toBe(9)
          expect(stored[8]?.id).toBe('given')
          for (const m of stored) expect(Number.isNaN(Date.parse(m.timestamp))).toBe(false)
          expect((await memory.history('a')).map((m) => m.content)).toEqual(['4', '5', '6', '7', '8'])
          expect(await memory.addMany('b', [])).toEqual([])
          await memory.flush()
          expect((await memory.stats()).messages).toBe(5)
          if (options.persistent) {
            await memory.close()
            const again = await openMemory({ backend: t.make(), maxMessages: 5, flushOnExit: false })
            opened.push(again)
            expect((await again.history('a')).map((m) => m.id)).toEqual(stored.slice(4).map((m) => m.id))
          }
        })

        it(`addMany() past maxPending waits for room instead of rejecting (${durability})`, async () => {
          const memory = await openMemory({
            backend: (await target()).make(),
            durability,
            maxPending: 20,
            flushOnExit: false,
          })
          opened.push(memory)
          const contents = Array.from({ length: 300 }, (_, i) => String(i))
          await memory.addMany(
            'u',
            contents.map((content) => ({ role: 'user', content })),
          )
          await memory.flush()
          expect((await memory.stats()).messages).toBe(300)
          expect((await memory.history('u')).map((m) => m.content)).toEqual(contents)
        })
      }

      it('addMany() checks every message first: one bad message adds none, and the error names it', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          maxMessageBytes: 10_000,
          flushOnExit: false,
        })
        opened.push(memory)
        const good = { role: 'user', content: 'fine' }
        const bad = [good, good, { role: 'user', content: 5 }] as unknown as Parameters<Memory['addMany']>[1]
        await expect(memory.addMany('a', bad)).rejects.toThrow(
          new TypeError(
            'messages[2] is not valid, so none of the 3 messages was added: message.content must be a string, got 5',
          ),
        )
        await expect(
          memory.addMany('a', [good, { role: 'user', content: 'x'.repeat(20_000) }]),
        ).rejects.toThrow(RangeError)
        await expect(
          memory.addMany('a', [
            { ...good, id: 'same' },
            { ...good, id: 'same' },
          ]),
        ).rejects.toSatisfy(
          (error) => isMemoryError(error, 'duplicate-id') && /messages\[1\]/.test(String(error)),
        )
        await expect(memory.addMany('a', good as never)).rejects.toThrow(TypeError)
        await memory.flush()
        expect(await memory.history('a')).toEqual([])
        expect((await memory.stats()).messages).toBe(0)
        // An id already used by a pending change of the conversation is refused too, before any add.
        await memory.add('a', { ...good, id: 'taken' })
        await expect(memory.addMany('a', [good, { ...good, id: 'taken' }])).rejects.toSatisfy((error) =>
          isMemoryError(error, 'duplicate-id'),
        )
        expect((await memory.history('a')).map((m) => m.id)).toEqual(['taken'])
      })

      it('addMany() with strict durability resolves after one durable write', async () => {
        const memory = await openMemory({
          backend: (await target()).make(),
          durability: 'strict',
          flushOnExit: false,
        })
        opened.push(memory)
        const saves: number[] = []
        memory.on('save', (info) => saves.push(info.messages))
        const stored = await memory.addMany(
          's',
          Array.from({ length: 200 }, (_, i) => ({ role: 'user', content: String(i) })),
        )
        expect(saves).toEqual([200])
        expect((await memory.stats()).pending).toBe(0)
        expect(stored).toHaveLength(200)
        await memory.close()
        await expect(memory.addMany('s', [{ role: 'user', content: 'late' }])).rejects.toSatisfy((error) =>
          isMemoryError(error, 'closed'),
        )
      })

      if (options.persistent) {
        it('close() writes the adds still waiting for room', async () => {
          const t = await target()
          const memory = await openMemory({ backend: t.make(), maxPending: 5, flushOnExit: false })
          // Started together, not awaited one by one: the last five wait for room.
          const adds = Array.from({ length: 10 }, (_, i) =>
            memory.add('w', { role: 'user', content: String(i) }),
          )
          await memory.close()
          await Promise.all(adds)
          const again = await openMemory({ backend: t.make(), flushOnExit: false })
          opened.push(again)
          expect((await again.history('w')).map((m) => m.content)).toEqual(
            Array.from({ length: 10 }, (_, i) => String(i)),
          )
        })

        it('close() writes pending messages: a reopened store has them', async () => {
          const t = await target()
          const memory = await openMemory({ backend: t.make(), saveEvery: 1000, flushOnExit: false })
          for (let i = 0; i < 7; i++)
            await memory.add(i % 2 === 0 ? 1 : 'constructor', { role: 'user', content: String(i) })
          await memory.close()
          const again = await openMemory({ backend: t.make(), flushOnExit: false })
          opened.push(again)
          expect((await again.history(1)).map((m) => m.content)).toEqual(['0', '2', '4', '6'])
          expect((await again.history('constructor')).map((m) => m.content)).toEqual(['1', '3', '5'])
        })
      }
    })
  })
}
