import { randomUUID } from 'node:crypto'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { redisBackend } from '../../../src/redis.js'
import { describeBackendContract } from '../../contract.js'
import { IN_CI } from '../../helpers.js'
import { deleteKeys, LocalCluster, redisServerMissing } from './cluster-servers.js'

const missing = await redisServerMissing()

if (missing !== undefined) {
  if (IN_CI) {
    it('redis-server is installed (required when CI=true)', () => {
      throw new Error(missing)
    })
  } else {
    it.skip(`Redis Cluster tests skipped: ${missing}`, () => undefined)
  }
} else {
  let cluster: LocalCluster
  let client: Cluster
  const runPrefix = `taurobot-test:${randomUUID()}:`
  let targets = 0

  beforeAll(async () => {
    cluster = await LocalCluster.start()
    client = new Cluster(cluster.nodes, { lazyConnect: true })
    await client.connect()
  }, 60_000)

  afterAll(async () => {
    client?.disconnect()
    await cluster?.stop()
  }, 30_000)

  describeBackendContract(
    'redis cluster (3 masters)',
    () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      return {
        make: () => redisBackend({ client, keyPrefix }),
        cleanup: () => deleteKeys(client, keyPrefix),
      }
    },
    { persistent: true },
  )

  describe('redis cluster', () => {
    it('a flush that fails on one node and succeeds on others is retried without duplicates', async () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      const timing = new Cluster(cluster.nodes, { lazyConnect: true, redisOptions: { commandTimeout: 500 } })
      await timing.connect()
      const memory = await openMemory({
        backend: redisBackend({ client: timing, keyPrefix }),
        saveEvery: 1000,
        flushIntervalMs: 60_000,
        flushOnExit: false,
      })
      memory.on('error', () => undefined)
      const ids = Array.from({ length: 24 }, (_, i) => `chat-${i}`)
      // A first write loads the script on every node, so the held write below runs it.
      for (const id of ids) await memory.add(id, { role: 'user', content: 'w' })
      await memory.flush()
      for (let round = 0; round < 3; round++) {
        for (const id of ids) await memory.add(id, { role: 'user', content: `r${round}` })
      }
      // One master holds its writes past the client's timeout, then applies them; the others answer.
      const [held] = client.nodes('master')
      await held?.client('PAUSE', 1500, 'WRITE')
      await expect(memory.flush()).rejects.toSatisfy((e) => isMemoryError(e, 'backend-unavailable'))
      await new Promise((r) => setTimeout(r, 1600))
      for (const id of ids) await memory.add(id, { role: 'user', content: 'after' })
      await memory.flush()
      for (const id of ids) {
        expect((await memory.history(id)).map((m) => m.content)).toEqual(['w', 'r0', 'r1', 'r2', 'after'])
      }
      await memory.close()
      timing.disconnect()
      await deleteKeys(client, keyPrefix)
    }, 30_000)

    it('a key of another type on one node fails only its conversation; the other buckets are written', async () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      const memory = await openMemory({
        backend: redisBackend({ client, keyPrefix }),
        saveEvery: 1000,
        flushOnExit: false,
      })
      const errors: unknown[] = []
      memory.on('error', (error) => errors.push(error))
      const ids = Array.from({ length: 12 }, (_, i) => `c${i}`)
      for (const id of [...ids, 'bad']) await memory.add(id, { role: 'user', content: 'first' })
      await memory.flush()
      const found: string[] = []
      for (const node of client.nodes('master')) found.push(...(await node.keys(`${keyPrefix}*:m:bad`)))
      const [badKey = 'missing'] = found
      await client.del(badKey)
      await client.set(badKey, 'foreign')
      for (const id of [...ids, 'bad']) await memory.add(id, { role: 'user', content: 'second' })
      // The flush writes every other conversation, then rejects naming the one refused.
      await expect(memory.flush()).rejects.toSatisfy(
        (e) => isMemoryError(e, 'corrupt') && (e as Error).message.includes('conversation "bad"'),
      )
      expect(errors).toHaveLength(1)
      expect(isMemoryError(errors[0], 'corrupt')).toBe(true)
      expect((errors[0] as Error).message).toContain(`the key "${badKey}" holds a string, not a list`)
      for (const id of ids) {
        expect((await memory.history(id)).map((m) => m.content)).toEqual(['first', 'second'])
      }
      await expect(memory.history('bad')).rejects.toSatisfy((e) => isMemoryError(e, 'corrupt'))
      await memory.close()
      await deleteKeys(client, keyPrefix)
    })

    it('spreads conversations over the masters, each conversation within one slot', async () => {
      const keyPrefix = `${runPrefix}${targets++}:`
      const memory = await openMemory({
        backend: redisBackend({ client, keyPrefix }),
        saveEvery: 1000,
        flushOnExit: false,
      })
      for (let i = 0; i < 200; i++) await memory.add(`user-${i % 40}`, { role: 'user', content: `m${i}` })
      await memory.flush()
      const perMaster: number[] = []
      for (const node of client.nodes('master')) {
        const keys: string[] = []
        let cursor = '0'
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000)
          cursor = next
          keys.push(...found)
        } while (cursor !== '0')
        perMaster.push(keys.filter((k) => k.includes(':m:')).length)
        // Every conversation list sits in the same slot as its bucket's index.
        for (const key of keys.filter((k) => k.includes(':m:'))) {
          const index = `${key.slice(0, key.indexOf(':m:'))}:i`
          expect(await node.cluster('KEYSLOT', key)).toBe(await node.cluster('KEYSLOT', index))
        }
      }
      expect(perMaster.reduce((a, b) => a + b, 0)).toBe(40)
      expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1)
      const stats = await memory.stats()
      expect([stats.conversations, stats.messages]).toEqual([40, 200])
      expect((await memory.history('user-7')).map((m) => m.content)).toEqual(
        [7, 47, 87, 127, 167].map((i) => `m${i}`),
      )
      await memory.close()
      expect(client.status).toBe('ready')
      await deleteKeys(client, keyPrefix)
    })
  })
}
