import { randomUUID } from 'node:crypto'
import { basename, join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import { fileBackend, type MemoryOptions, memoryBackend } from '../../src/index.js'
import { redisBackend } from '../../src/redis.js'
import { sqliteBackend } from '../../src/sqlite.js'
import { deleteKeys, REDIS_URL, redisUnavailable } from '../backends/redis/cluster-servers.js'

/** One backend an integration's tests run on; `reopens` when a new store over `dir` sees the old one's data. */
export interface BackendSetup {
  name: string
  options: (dir: string) => MemoryOptions
  reopens: boolean
}

/**
 * Every backend of the package, for the integrations' tests: the file (`<name>.json`), in-process,
 * SQLite (`<name>.db`) and, when a server answers at REDIS_URL (CI starts one), Redis, where each
 * scratch directory gets keys of its own and every key of the run is deleted afterwards.
 */
export async function backendSetups(name: string): Promise<BackendSetup[]> {
  const setups: BackendSetup[] = [
    {
      name: 'file',
      options: (dir) => ({ backend: fileBackend({ path: join(dir, `${name}.json`) }) }),
      reopens: true,
    },
    { name: 'in-process', options: () => ({ backend: memoryBackend() }), reopens: false },
    {
      name: 'SQLite',
      options: (dir) => ({ backend: sqliteBackend({ path: join(dir, `${name}.db`) }) }),
      reopens: true,
    },
  ]
  if ((await redisUnavailable()) !== undefined) return setups
  const runPrefix = `taurobot-test:${randomUUID()}:`
  afterAll(async () => {
    const admin = new Redis(REDIS_URL)
    await deleteKeys(admin, runPrefix)
    admin.disconnect()
  })
  setups.push({
    name: 'Redis',
    options: (dir) => ({
      backend: redisBackend({ url: REDIS_URL, keyPrefix: `${runPrefix}${basename(dir)}:` }),
    }),
    reopens: true,
  })
  return setups
}
