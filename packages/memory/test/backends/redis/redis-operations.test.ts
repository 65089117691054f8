// Upserts and removes on the Redis backend, beyond the contract suite: how a message is found by
// its id inside the script, what happens to the bucket's index and stamps, retries and foreign keys.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisLayout } from '../../../src/backends/redis/layout.js'
import type { Backend, BackendContext, Message, Operation } from '../../../src/index.js'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { redisBackend } from '../../../src/redis.js'
import { IN_CI } from '../../helpers.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './cluster-servers.js'

const unavailable = await redisUnavailable()
const runPrefix = `taurobot-test:${randomUUID()}:`
let targets = 0

function context(maxMessages = 1000): BackendContext {
  return { maxMessages, warn: () => undefined, recovered: () => undefined }
}

function message(id: string, content = id, extra: Record<string, unknown> = {}): Message {
  return { role: 'user', content, timestamp: new Date().toISOString(), id, ...extra }
}

function operate(id: string, ...operations: Operation[]) {
  return { id, messages: [], operations }
}

const upsert = (m: Message): Operation => ({ op: 'upsert', message: m })
const remove = (id: string): Operation => ({ op: 'remove', id })

if (unavailable !== undefined) {
  if (IN_CI) {
    it('Redis answers at REDIS_URL (required when CI=true)', () => {
      throw new Error(unavailable)
    })
  } else {
    it.skip(`Redis operation tests skipped: ${unavailable}`, () => undefined)
  }
} else {
  const admin = new Redis(REDIS_URL)
  const opened: Backend[] = []
  afterAll(async () => {
    for (const backend of opened) await backend.close()
    await deleteKeys(admin, runPrefix)
    admin.disconnect()
  })

  async function open(maxMessages = 1000) {
    const keyPrefix = `${runPrefix}${targets++}:`
    const backend = redisBackend({ url: REDIS_URL, keyPrefix })
    await backend.open(context(maxMessages))
    opened.push(backend)
    const layout = new RedisLayout(keyPrefix, 16)
    const bucket = (id: string) => layout.bucketOf(id)
    return {
      backend,
      keyPrefix,
      list: (id: string) => layout.messages(bucket(id), id),
      score: async (id: string) => admin.zscore(layout.index(bucket(id)), id),
      stamp: async (id: string) => admin.hget(layout.stamps(bucket(id)), id),
      ids: async (id: string) => (await backend.read(id)).map((m) => m.id),
    }
  }

  describe('redis backend: upserts and removes', () => {
    it('finds a message by its own id only, anywhere in the list, whatever the id holds', async () => {
      const { backend, ids } = await open()
      const odd = ['quo"te', 'back\\slash', 'ünïcødé 🚀', 'lone \ud800 half', 'a/b</script>', 'x'.repeat(256)]
      // The same id as text, and as the key of objects nested in a message: none is the message.
      const decoys: Message[] = [
        message('d1', '"id":"target" in the text, and {"id":"target"}'),
        {
          note: 'brackets ]]}} [{ and a quote \\" in text',
          meta: { id: 'target' },
          list: [{ id: 'target' }],
          ...message('d2'),
        },
      ]
      // Its own id after fields with brackets and the needle in their text.
      const target = {
        before: { text: '}}]] "id":"target" [[{{', deeper: [{ id: 'x' }] },
        ...message('target', 'oldest'),
      }
      const filler = Array.from({ length: 200 }, (_, i) => message(`m${i}`))
      await backend.append([
        { id: 'c', messages: [target, ...odd.map((id) => message(id)), ...decoys, ...filler] },
      ])
      const upserted = message('target', 'found')
      // The oldest is 209 items from the newest end: past the windows of 8, 32 and 128 items.
      await backend.append([
        operate(
          'c',
          upsert(upserted),
          ...odd.map((id) => upsert(message(id, `edited ${id}`))),
          remove('m100'),
          remove('m199'),
          remove('unknown'),
          upsert(message('new', 'appended')),
        ),
      ])
      const stored = await backend.read('c')
      expect(stored[0]).toEqual(upserted)
      expect(stored.slice(1, 1 + odd.length).map((m) => [m.id, m.content])).toEqual(
        odd.map((id) => [id, `edited ${id}`]),
      )
      expect(stored.slice(1 + odd.length, 3 + odd.length)).toEqual(decoys)
      const expected = ['target', ...odd, 'd1', 'd2']
      for (let i = 0; i < 199; i++) if (i !== 100) expected.push(`m${i}`)
      expected.push('new')
      expect(await ids('c')).toEqual(expected)
      expect(stored.at(-1)?.content).toBe('appended')
    })

    it('applies a conversation’s changes in order, trims to maxMessages, and leaves others alone', async () => {
      const { backend, ids } = await open(3)
      await backend.append([
        { id: 'a', messages: [message('a1'), message('a2'), message('a3')] },
        { id: 'b', messages: [message('a1')] },
      ])
      await backend.append([
        operate(
          'a',
          remove('a2'),
          { op: 'add', message: message('a4') },
          upsert(message('a2', 'back')),
          remove('a4'),
          upsert(message('a5')),
          upsert(message('a1', 'a1 edited')),
        ),
        { id: 'b', messages: [message('b2')] },
      ])
      // Kept to 3 after each change, as each would leave it alone: a1 a3, a1 a3 a4, a3 a4 a2 (a1
      // out), a3 a2, a3 a2 a5, then a1 is not there to edit: appended anew, a3 out.
      expect(await ids('a')).toEqual(['a2', 'a5', 'a1'])
      const stored = await backend.read('a')
      expect(stored[0]?.content).toBe('back')
      expect(stored[2]?.content).toBe('a1 edited')
      expect(await ids('b')).toEqual(['a1', 'b2'])
      expect((await backend.stats?.())?.messages).toBe(5)
    })

    it('keeps the index and stamps on the newest message: upserted, removed, or none left', async () => {
      const { backend, score, stamp } = await open()
      const at = (iso: string, id: string) => ({ ...message(id), timestamp: iso })
      await backend.append([
        { id: 'c', messages: [at('2026-01-01T00:00:00.000Z', 'old'), at('2026-02-01T00:00:00.000Z', 'new')] },
      ])
      expect(Number(await score('c'))).toBe(Date.parse('2026-02-01T00:00:00.000Z'))
      // Another message replaced: the newest stays.
      await backend.append([operate('c', upsert(at('2026-03-01T00:00:00.000Z', 'old')))])
      expect(await stamp('c')).toBe('2026-02-01T00:00:00.000Z')
      // The newest replaced: its new timestamp.
      await backend.append([operate('c', upsert(at('2026-04-01T00:00:00.000Z', 'new')))])
      expect([Number(await score('c')), await stamp('c')]).toEqual([
        Date.parse('2026-04-01T00:00:00.000Z'),
        '2026-04-01T00:00:00.000Z',
      ])
      // The newest removed: the one before it, read from its JSON.
      await backend.append([operate('c', remove('new'))])
      expect([Number(await score('c')), await stamp('c')]).toEqual([
        Date.parse('2026-03-01T00:00:00.000Z'),
        '2026-03-01T00:00:00.000Z',
      ])
      // None left: the conversation is gone from the index, as after clear().
      await backend.append([operate('c', remove('old'))])
      expect([await score('c'), await stamp('c')]).toEqual([null, null])
      const listed = []
      for await (const summary of backend.conversations()) listed.push(summary.id)
      expect(listed).toEqual([])
      expect((await backend.stats?.())?.conversations).toBe(0)
      await backend.append([operate('c', upsert(at('2026-05-01T00:00:00.000Z', 'again')))])
      expect(await stamp('c')).toBe('2026-05-01T00:00:00.000Z')
    })

    it('reads the new newest timestamp as Date.parse does, in every zone-independent form', async () => {
      const { backend, score, stamp } = await open()
      const forms = [
        '2026-03-01T12:34:56.789Z',
        '2026-03-01T12:34:56Z',
        '2026-03-01T12:34Z',
        '2026-03-01T12:34:56.7+05:30',
        '2026-03-01T12:34:56.123456-08:00',
        '2026-03-01',
        '1969-12-31T23:59:59.999Z',
        '2000-02-29T23:00:00-01:00',
        '1600-03-01T00:00:00Z',
        '2026-12-31T24:00:00Z',
      ]
      const later = '2027-01-01T00:00:00.000Z'
      await backend.append(
        forms.map((form, i) => ({
          id: `f${i}`,
          messages: [
            { ...message('kept'), timestamp: form },
            { ...message('dropped'), timestamp: later },
          ],
        })),
      )
      await backend.append(forms.map((_, i) => operate(`f${i}`, remove('dropped'))))
      for (const [i, form] of forms.entries()) {
        expect([Number(await score(`f${i}`)), await stamp(`f${i}`)], form).toEqual([Date.parse(form), form])
      }
      // A local time depends on the zone of the process that reads it: the index keeps the
      // removed message's time (prune keeps the conversation until then); the stamp is exact.
      await backend.append([
        {
          id: 'local',
          messages: [{ ...message('kept'), timestamp: '2026-03-01T12:34' }, message('dropped')],
        },
      ])
      const before = await score('local')
      await backend.append([operate('local', remove('dropped'))])
      expect([await score('local'), await stamp('local')]).toEqual([before, '2026-03-01T12:34'])
    })

    it('prune sees the newest message once the newer one was removed', async () => {
      const { backend } = await open()
      await backend.append([
        {
          id: 'c',
          messages: [{ ...message('old'), timestamp: '2020-01-01T00:00:00.000Z' }, message('recent')],
        },
      ])
      expect(await backend.prune?.(Date.parse('2021-01-01T00:00:00.000Z'))).toEqual([])
      await backend.append([operate('c', remove('recent'))])
      expect(await backend.prune?.(Date.parse('2021-01-01T00:00:00.000Z'))).toEqual(['c'])
      expect(await backend.read('c')).toEqual([])
    })

    it('writes a flush of upserts and removes with one command', async () => {
      const client = new Redis(REDIS_URL)
      const sent: string[] = []
      const send = client.sendCommand.bind(client)
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name.toLowerCase())
        return (send as (...args: unknown[]) => unknown)(command, ...rest)
      }) as typeof client.sendCommand
      const memory = await openMemory({
        backend: redisBackend({ client, keyPrefix: `${runPrefix}${targets++}:` }),
        saveEvery: 1000,
        flushOnExit: false,
      })
      for (let i = 0; i < 5; i++) await memory.add(`c${i}`, { role: 'user', content: 'q', id: 'q' })
      await memory.flush()
      for (let i = 0; i < 5; i++) {
        for (const partial of ['Ci', 'Ciao', 'Ciao!']) {
          await memory.upsert(`c${i}`, { id: 'reply', role: 'assistant', content: partial })
        }
        await memory.add(`c${i}`, { role: 'user', content: 'oops', id: 'oops' })
      }
      sent.length = 0
      await memory.flush()
      expect(['evalsha', 'evalsha,eval']).toContain(sent.join())
      for (let i = 0; i < 5; i++) expect(await memory.remove(`c${i}`, 'oops')).toBe(true)
      sent.length = 0
      await memory.flush()
      expect(sent).toEqual(['evalsha'])
      expect((await memory.history('c3')).map((m) => [m.id, m.content])).toEqual([
        ['q', 'q'],
        ['reply', 'Ciao!'],
      ])
      await memory.close()
      client.disconnect()
    })

    it('two stores upserting the same message at once leave it once: each script sees the other’s', async () => {
      const { keyPrefix, ids } = await open()
      const stores = await Promise.all(
        [0, 1].map(() =>
          openMemory({
            backend: redisBackend({ url: REDIS_URL, keyPrefix }),
            durability: 'strict',
            flushOnExit: false,
          }),
        ),
      )
      await Promise.all(
        stores.map(async (memory, n) => {
          for (let i = 0; i < 20; i++) {
            await memory.upsert('c', { id: 'reply', role: 'assistant', content: `store ${n}, ${i}` })
            await memory.upsert('c', { id: `own-${n}`, role: 'user', content: `${i}` })
          }
        }),
      )
      expect((await ids('c')).sort()).toEqual(['own-0', 'own-1', 'reply'])
      for (const memory of stores) await memory.close()
    })

    it('reloads its script after the server forgot it (SCRIPT FLUSH)', async () => {
      const { backend, ids } = await open()
      await backend.append([{ id: 'c', messages: [message('a'), message('b')] }])
      await admin.script('FLUSH')
      await backend.append([operate('c', remove('a'), upsert(message('b', 'edited')))])
      expect(await ids('c')).toEqual(['b'])
      expect((await backend.read('c'))[0]?.content).toBe('edited')
    })

    it('a write of upserts and removes whose reply was lost is applied exactly once on retry', async () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix, commandTimeoutMs: 500 }),
        saveEvery: 1000,
        flushIntervalMs: 60_000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      memory.on('error', (e) => errors.push(e))
      await memory.add('c', { role: 'user', content: 'q1', id: 'q1' })
      await memory.add('c', { role: 'user', content: 'gone', id: 'gone' })
      await memory.flush()
      await memory.upsert('c', { id: 'r1', role: 'assistant', content: 'reply' })
      expect(await memory.remove('c', 'gone')).toBe(true)
      await memory.add('c', { role: 'user', content: 'q2', id: 'q2' })
      await memory.upsert('c', { id: 'q1', role: 'user', content: 'q1 edited' })
      // The server holds the write past the client's timeout, then applies it: the reply is lost.
      await admin.client('PAUSE', 1500, 'WRITE')
      const failure = await memory.flush().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isMemoryError(failure, 'backend-unavailable')).toBe(true)
      expect((failure as Error).message).toMatch(/cannot write 4 changes .*timed out/)
      await new Promise((r) => setTimeout(r, 1600))
      const probe = redisBackend({ url: REDIS_URL, keyPrefix })
      await probe.open(context())
      opened.push(probe)
      // Redis did apply it: only the reply was lost.
      const applied = [
        ['q1', 'q1 edited'],
        ['r1', 'reply'],
        ['q2', 'q2'],
      ]
      expect((await probe.read('c')).map((m) => [m.id, m.content])).toEqual(applied)
      expect((await memory.stats()).pending).toBe(4)
      await memory.add('c', { role: 'user', content: 'q3', id: 'q3' })
      await memory.flush()
      expect((await probe.read('c')).map((m) => [m.id, m.content])).toEqual([...applied, ['q3', 'q3']])
      await memory.close()
    })

    it('a key of another type fails only the conversations it holds; the rest of the batch is written', async () => {
      const { backend, keyPrefix, list, ids } = await open()
      await backend.append([{ id: 'x', messages: [message('x1')] }])
      await admin.set(list('y'), 'a string')
      const result = await backend.append([
        operate('x', upsert(message('x1', 'edited')), { op: 'add', message: message('x2') }),
        operate('y', upsert(message('y1')), remove('y0')),
        { id: 'z', messages: [message('z1')] },
      ])
      expect([...(result.failed?.keys() ?? [])]).toEqual(['y'])
      const error = result.failed?.get('y')
      expect(isMemoryError(error, 'corrupt')).toBe(true)
      expect(error?.message).toContain(
        `cannot write conversation "y" at Redis ${REDIS_URL}: the key "${list('y')}" holds a string, not a list, so its 2 changes were not written (the other conversations were)`,
      )
      expect(error?.details).toMatchObject({ id: 'y', key: list('y'), type: 'string', messages: 2 })
      expect((await backend.read('x')).map((m) => m.content)).toEqual(['edited', 'x2'])
      expect(await ids('z')).toEqual(['z1'])
      expect(await admin.get(list('y'))).toBe('a string')

      // A bucket's index of another type fails that bucket's conversations only.
      const layout = new RedisLayout(keyPrefix, 16)
      const other = ['w0', 'w1', 'w2', 'w3', 'w4'].find((id) => layout.bucketOf(id) !== layout.bucketOf('w'))
      const index = layout.index(layout.bucketOf('w'))
      await backend.append([{ id: 'w', messages: [message('w1')] }])
      await admin.del(index)
      await admin.sadd(index, 'foreign')
      const bucketResult = await backend.append([
        operate('w', remove('w1')),
        operate(other ?? 'w0', upsert(message('o1'))),
      ])
      expect([...(bucketResult.failed?.keys() ?? [])]).toEqual(['w'])
      expect(bucketResult.failed?.get('w')?.message).toContain(
        `the key "${index}" holds a set, not a sorted set`,
      )
      expect(await ids('w')).toEqual(['w1'])
      expect(await ids(other ?? 'w0')).toEqual(['o1'])

      // Once the keys are gone, the same operations are applied: the failed attempt did not count them.
      await admin.del(list('y'), index)
      const again = operate('y', upsert(message('y1')), remove('y0'))
      expect((await backend.append([again])).failed).toBeUndefined()
      expect(await ids('y')).toEqual(['y1'])
    })

    it('through a store: an upsert to a conversation on a foreign key rejects, the others are written', async () => {
      const { keyPrefix, list } = await open()
      await admin.set(list('bad'), 'a string')
      const memory = await openMemory({
        backend: redisBackend({ url: REDIS_URL, keyPrefix }),
        durability: 'strict',
        flushOnExit: false,
      })
      await memory.add('good', { role: 'user', content: 'q', id: 'q' })
      // Both upserts share one write (group commit): the unrelated one is written all the same.
      const [bad, good] = await Promise.allSettled([
        memory.upsert('bad', { id: 'r', role: 'assistant', content: 'lost' }),
        memory.upsert('good', { id: 'q', role: 'user', content: 'edited' }),
      ])
      expect(
        bad.status === 'rejected' &&
          isMemoryError(bad.reason, 'corrupt') &&
          (bad.reason as Error).message.includes('cannot write conversation "bad"'),
      ).toBe(true)
      expect(good.status).toBe('fulfilled')
      expect((await memory.history('good')).map((m) => m.content)).toEqual(['edited'])
      expect(await admin.get(list('bad'))).toBe('a string')
      await memory.close()
    })
  })
}
