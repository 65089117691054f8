import { randomUUID } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisLayout } from '../src/backends/redis/layout.js'
import { isMemoryError, type Memory, type MemoryError, type MemoryOptions } from '../src/index.js'
import { redisBackend } from '../src/redis.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from './backends/redis/cluster-servers.js'
import { IN_CI, testScratch } from './helpers.js'

const { fresh, open } = testScratch()

/** The MemoryError `attempt` rejects with; fails the test when it resolves. */
async function rejection(attempt: Promise<unknown>): Promise<MemoryError> {
  const error = await attempt.then(
    () => new Error('resolved, expected a rejection'),
    (e: unknown) => e,
  )
  expect(isMemoryError(error), String(error)).toBe(true)
  return error as MemoryError
}

// Conversations "1" and "3" hold a message without content (written by hand): the file backend
// refuses every change to them with `corrupt`. "2" is fine.
const NO_CONTENT = { role: 'user', timestamp: '2025-01-01T00:00:01' }
const SNAPSHOT = {
  conversations: {
    '1': [{ role: 'user', content: 'fine', timestamp: '2025-01-01T00:00:00' }, NO_CONTENT],
    '2': [{ role: 'user', content: 'other', timestamp: '2025-01-01T00:00:00' }],
    '3': [NO_CONTENT],
  },
}

/** A batched store on a JSON file with the snapshot above; errors are collected, not printed. */
async function damagedStore(
  options: MemoryOptions = {},
): Promise<{ memory: Memory; path: string; errors: unknown[] }> {
  const path = join(await fresh(), 'c.json')
  await writeFile(path, JSON.stringify(SNAPSHOT))
  const errors: unknown[] = []
  const memory = await open({
    path,
    durability: 'batched',
    saveEvery: 1000,
    flushIntervalMs: 60_000,
    onError: (error) => errors.push(error),
    ...options,
  })
  return { memory, path, errors }
}

const contents = async (memory: Memory, id: string) => (await memory.history(id)).map((m) => m.content)

describe('flush() reports batched changes the backend refused', () => {
  it('rejects with corrupt naming the conversation and the dropped changes, after writing the others', async () => {
    const { memory, path, errors } = await damagedStore()
    await memory.add('1', { role: 'user', content: 'lost' })
    await memory.add('1', { role: 'user', content: 'lost too' })
    await memory.add('2', { role: 'user', content: 'kept' })
    const error = await rejection(memory.flush())
    expect(error.code).toBe('corrupt')
    expect(error.message).toMatch(
      /^\[@taurobot\/memory\] the file backend refused 2 changes to conversation "1", dropped without being written \(every other change was written\): message 1 of conversation "1" in ".*c\.json" is not a message: its content is undefined/,
    )
    expect(error.details).toMatchObject({ conversations: ['1'], dropped: { '1': 2 }, index: 1 })
    expect(isMemoryError(error.cause, 'corrupt')).toBe(true)
    // The error event said so too, once per write.
    expect(errors).toHaveLength(1)
    expect(await contents(memory, '2')).toEqual(['other', 'kept'])
    expect(await readFile(`${path}.journal`, 'utf8')).toContain('"kept"')
    // Reported once: the next flush() covers nothing that was refused.
    await memory.flush()
    await memory.add('2', { role: 'user', content: 'more' })
    await memory.flush()
    expect(await contents(memory, '2')).toEqual(['other', 'kept', 'more'])
  })

  it('also when a background write refused them before flush() was called', async () => {
    const { memory, errors } = await damagedStore({ saveEvery: 1 })
    await memory.add('1', { role: 'user', content: 'lost' })
    await expect.poll(() => errors.length).toBe(1)
    expect((await memory.stats()).pending).toBe(0)
    const error = await rejection(memory.flush())
    expect(error.message).toContain('refused 1 change to conversation "1"')
    await memory.flush()
  })

  it('names each refused conversation in one error', async () => {
    const { memory } = await damagedStore()
    await memory.add('1', { role: 'user', content: 'lost' })
    await memory.add('2', { role: 'user', content: 'kept' })
    await memory.add('3', { role: 'user', content: 'lost' })
    await memory.add('3', { role: 'user', content: 'lost' })
    const error = await rejection(memory.flush())
    expect(error.code).toBe('corrupt')
    expect(error.message).toMatch(
      /the file backend refused the changes to 2 conversations, dropped without being written \(every other change was written\): "1" \(1 change\): message 1 of conversation "1" .*; "3" \(2 changes\): message 0 of conversation "3" /,
    )
    expect(error.details).toMatchObject({ conversations: ['1', '3'], dropped: { '1': 1, '3': 2 } })
    expect((error.cause as AggregateError).errors).toHaveLength(2)
    expect(await contents(memory, '2')).toEqual(['other', 'kept'])
  })

  it('every flush() that was running when the refusal came reports it', async () => {
    const { memory } = await damagedStore()
    await memory.add('1', { role: 'user', content: 'lost' })
    const [first, second] = await Promise.all([rejection(memory.flush()), rejection(memory.flush())])
    expect(first.code).toBe('corrupt')
    expect(second.code).toBe('corrupt')
    await memory.flush()
  })

  it('not once the conversation was cleared, as its caller asked', async () => {
    const { memory, errors } = await damagedStore({ saveEvery: 1 })
    await memory.add('1', { role: 'user', content: 'lost' })
    await expect.poll(() => errors.length).toBe(1)
    expect(await memory.clear('1')).toBe(true)
    await memory.flush()
    await memory.add('1', { role: 'user', content: 'new' })
    await memory.flush()
    expect(await contents(memory, '1')).toEqual(['new'])
  })

  it('close() writes and closes everything, then rejects with the refusal; called again, it resolves', async () => {
    const { memory, path } = await damagedStore()
    await memory.add('1', { role: 'user', content: 'lost' })
    await memory.add('2', { role: 'user', content: 'kept' })
    const error = await rejection(memory.close())
    expect(error.code).toBe('corrupt')
    expect(error.message).toContain('refused 1 change to conversation "1"')
    // Closed, not kept open: retrying could not write what was dropped.
    await expect(memory.history('2')).rejects.toSatisfy((e) => isMemoryError(e, 'closed'))
    await memory.close()
    const { conversations } = JSON.parse(await readFile(path, 'utf8')) as typeof SNAPSHOT
    expect(conversations['2'].map((m) => m.content)).toEqual(['other', 'kept'])
    expect(conversations['1']).toHaveLength(2)
  })

  it('in strict mode the add() rejects, and flush() has nothing more to report', async () => {
    const { memory } = await damagedStore({ durability: 'strict' })
    const add = await rejection(memory.add('1', { role: 'user', content: 'lost' }))
    expect(add.code).toBe('corrupt')
    await memory.flush()
    await memory.close()
  })
})

const unavailable = await redisUnavailable()

describe.skipIf(unavailable !== undefined && !IN_CI)('flush() reports what Redis refused', () => {
  const prefix = `taurobot-test:${randomUUID()}:`
  const admin = new Redis(REDIS_URL, { lazyConnect: true })
  afterAll(async () => {
    await deleteKeys(admin, prefix)
    admin.disconnect()
  })

  it('a conversation whose list key holds a string: flush() rejects with corrupt, the others are written', async () => {
    const layout = new RedisLayout(prefix, 16)
    await admin.set(layout.messages(layout.bucketOf('y'), 'y'), 'a string')
    const errors: unknown[] = []
    const memory = await open({
      backend: redisBackend({ url: REDIS_URL, keyPrefix: prefix }),
      saveEvery: 1000,
      onError: (error) => errors.push(error),
    })
    await memory.add('y', { role: 'user', content: 'lost' })
    await memory.add('x', { role: 'user', content: 'kept' })
    const error = await rejection(memory.flush())
    expect(error.code).toBe('corrupt')
    expect(error.message).toContain(
      'the redis backend refused 1 change to conversation "y", dropped without being written (every other change was written): cannot write conversation "y"',
    )
    expect(errors).toHaveLength(1)
    expect(await contents(memory, 'x')).toEqual(['kept'])
    await memory.close()
  })
})
