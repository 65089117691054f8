import { MemoryError } from '../../errors.js'

/**
 * ioredis, an optional peer dependency, imported when a Redis store is opened: bots on other
 * backends never load it, and a missing install says what to run.
 */
export type RedisConstructor = typeof import('ioredis').Redis

export async function loadIoredis(): Promise<RedisConstructor> {
  try {
    const loaded = await import('ioredis')
    // Node's ESM view of this CommonJS package may put the exports on `default` only.
    const fallback = (loaded as { default?: { Redis?: RedisConstructor } }).default
    const RedisClass = loaded.Redis ?? fallback?.Redis
    if (typeof RedisClass !== 'function') throw new Error('ioredis exports no Redis class')
    return RedisClass
  } catch (error) {
    throw new MemoryError(
      'backend-unavailable',
      'the Redis backend needs the ioredis package, which is not installed. Run `npm install ioredis`.',
      { cause: error },
    )
  }
}
