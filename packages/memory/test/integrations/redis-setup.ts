import { randomUUID } from 'node:crypto'
import { basename } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import type { MemoryOptions } from '../../src/index.js'
import { redisBackend } from '../../src/redis.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from '../backends/redis/cluster-servers.js'

/**
 * The Redis backend as one more setup of an integration's tests, when a server answers at
 * REDIS_URL (CI starts one): each scratch directory gets keys of its own, so reopening the same
 * directory reopens the same store, and every key of the run is deleted afterwards.
 */
export async function redisSetup(): Promise<
  { name: string; options: (dir: string) => MemoryOptions; reopens: boolean }[]
> {
  if ((await redisUnavailable()) !== undefined) return []
  const runPrefix = `taurobot-test:${randomUUID()}:`
  afterAll(async () => {
    const admin = new Redis(REDIS_URL)
    await deleteKeys(admin, runPrefix)
    admin.disconnect()
  })
  return [
    {
      name: 'Redis',
      options: (dir) => ({
        backend: redisBackend({ url: REDIS_URL, keyPrefix: `${runPrefix}${basename(dir)}:` }),
      }),
      reopens: true,
    },
  ]
}
