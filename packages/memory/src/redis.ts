/**
 * The Redis backend of `@taurobot/memory`, in its own entry so that only the bots that use it
 * need the optional `ioredis` peer dependency.
 *
 * @packageDocumentation
 * @module @taurobot/memory/redis
 */

export { redisBackend } from './backends/redis/redis-backend.js'
export type { RedisBackendOptions, RedisClient } from './backends/redis/redis-options.js'
