import { loadIoredis, type RedisConstructor } from './load-ioredis.js'

type RedisClient = InstanceType<RedisConstructor>

/**
 * Asks the server at `url` one question on a connection of its own that neither retries nor
 * queues, then closes it. Undefined when the server cannot be asked (ioredis missing, no answer, a
 * refusal): the caller then opens the store, which says why.
 */
export async function askRedis<T>(
  url: string,
  question: (client: RedisClient) => Promise<T>,
): Promise<T | undefined> {
  let client: RedisClient | undefined
  try {
    const RedisClass = await loadIoredis()
    client = new RedisClass(url, {
      lazyConnect: true,
      connectionName: 'taurobot-memory',
      connectTimeout: 5000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    client.on('error', () => {})
    await client.connect()
    return await question(client)
  } catch {
    return undefined
  } finally {
    client?.disconnect()
  }
}
