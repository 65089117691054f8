import { expect, it } from 'vitest'
import { memoryBackend } from '../src/index.js'
import { describeBackendContract } from './contract.js'

describeBackendContract('memory', () => ({ make: () => memoryBackend() }), { persistent: false })

it('a memory backend cannot be opened twice', async () => {
  const backend = memoryBackend()
  await backend.open({ maxMessages: 10, warn: () => undefined, recovered: () => undefined })
  await expect(
    backend.open({ maxMessages: 10, warn: () => undefined, recovered: () => undefined }),
  ).rejects.toThrow(/already opened/)
})
