import { expect, it } from 'vitest'
import { memoryBackend } from '../../src/index.js'
import { describeBackendContract } from '../contract.js'

describeBackendContract('memory', () => ({ make: () => memoryBackend() }), { persistent: false })

it('a memory backend cannot be opened twice', async () => {
  const backend = memoryBackend()
  await backend.open({ maxMessages: 10, warn: () => undefined, recovered: () => undefined })
  await expect(
    backend.open({ maxMessages: 10, warn: () => undefined, recovered: () => undefined }),
  ).rejects.toThrow(/already opened/)
})

it('keeps the newest maxMessages when a batch overflows a conversation by one, a few or many', async () => {
  const backend = memoryBackend()
  await backend.open({ maxMessages: 20, warn: () => undefined, recovered: () => undefined })
  const message = (k: number) => ({ role: 'user', content: String(k), timestamp: '2026-01-01T00:00:00' })
  let next = 0
  // Batches of 1, 5 and 40 messages: trimmed one at a time, a few at a time, and past a whole list.
  for (const size of [15, 1, 5, 1, 40, 3]) {
    await backend.append([{ id: 'a', messages: Array.from({ length: size }, () => message(next++)) }])
    const contents = (await backend.read('a')).map((m) => Number(m.content))
    const first = Math.max(0, next - 20)
    expect(contents).toEqual(Array.from({ length: next - first }, (_, i) => first + i))
  }
  expect((await backend.stats?.())?.messages).toBe(20)
})
