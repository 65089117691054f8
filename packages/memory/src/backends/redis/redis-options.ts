// The Redis backend's options, checked up front: a wrong value is named in its error, and a URL
// is never shown with its password.
import type { Cluster, Redis } from 'ioredis'
import { isRedisUrl } from '../../location.js'
import { show } from '../../message.js'
import { integerOption, knownOptions } from '../../options.js'
import { redactText } from '../../redact.js'
import { hasEmptyHashTag } from './layout.js'

/** A client the Redis backend can use: a standalone ioredis `Redis` or an ioredis `Cluster`. */
export type RedisClient = Redis | Cluster

/** Options of {@link redisBackend}. */
export interface RedisBackendOptions {
  /**
   * Server to connect to. A path (`redis://host:6379/2`) names the database; open fails when the
   * server does not have it. Ignored when `client` is given.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /**
   * Your own ioredis client (`Redis` or `Cluster`). The backend uses it as configured and never
   * closes it: closing it stays your job. A standalone client is used on the database of its `db`
   * option (or URL path), selected and checked at open; the backend assumes it stays there, so
   * do not `select()` another one, and listen to its `error` event, which is where ioredis
   * reports a `SELECT` the server refused at a reconnect.
   */
  client?: RedisClient
  /**
   * Prefix of every key, so that several stores (or apps) can share one Redis. Not empty.
   * @default 'taurobot:memory:'
   */
  keyPrefix?: string
  /**
   * How many buckets conversations are spread over (each bucket is one Cluster slot). Fixed when
   * the first store writes under a prefix; later stores adopt the stored value.
   * @default 16
   */
  buckets?: number
  /**
   * How long opening may wait for the server, in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number
  /**
   * How long one command may wait for its reply before it fails (the store then keeps and
   * retries the messages). Applies to the client the backend creates.
   * @default 10000
   */
  commandTimeoutMs?: number
  /**
   * After each write, wait until this many replicas acknowledged it (`WAIT`); a write that fewer
   * replicas acknowledged in time fails and is retried. Standalone clients only.
   * @default 0
   */
  waitReplicas?: number
  /**
   * How long `WAIT` may block, in milliseconds.
   * @default 1000
   */
  waitTimeoutMs?: number
}

export const DEFAULT_URL = 'redis://127.0.0.1:6379'
export const DEFAULT_PREFIX = 'taurobot:memory:'
/** Why an empty key prefix is refused; the CLI says the same of --key-prefix. */
export const EMPTY_PREFIX_REASON =
  "must not be empty: the store's keys (format, limit, {0}:i, {0}:m:<id>…) would then sit at the root of the keyspace, where format and limit could clash with other applications' keys. Give a prefix such as 'mybot:' (the default is 'taurobot:memory:')"
const EMPTY_PREFIX = `keyPrefix ${EMPTY_PREFIX_REASON}`
const OPTION_NAMES = new Set([
  'url',
  'client',
  'keyPrefix',
  'buckets',
  'connectTimeoutMs',
  'commandTimeoutMs',
  'waitReplicas',
  'waitTimeoutMs',
])
// A writer's last sequence number must outlive any retry of a batch whose reply was lost.
export const WRITER_TTL_MS = 7 * 86_400_000
export const LIST_CHUNK = 500
export const CALL_BYTES = 64 * 1024 * 1024

export interface ResolvedOptions {
  url: string
  client: RedisClient | undefined
  keyPrefix: string
  buckets: number | undefined
  connectTimeoutMs: number
  commandTimeoutMs: number
  waitReplicas: number
  waitTimeoutMs: number
}

export function resolveOptions(options: unknown): ResolvedOptions {
  const o = knownOptions(options, OPTION_NAMES)
  if (o.url !== undefined && o.client !== undefined) {
    throw new TypeError('options url and client cannot be used together: configure the client instead')
  }
  const given = o.url ?? DEFAULT_URL
  if (typeof given !== 'string' || !isRedisUrl(given)) {
    throw new TypeError(
      `url must be a redis:// or rediss:// URL, got ${show(typeof given === 'string' ? redactText(given) : given)}`,
    )
  }
  // Schemes are case-insensitive; the lower-case form is what ioredis and the TLS check expect.
  const url = given.replace(/^rediss?/i, (scheme) => scheme.toLowerCase())
  const client = o.client as Partial<Redis> | undefined | null
  if (
    client !== undefined &&
    (typeof client !== 'object' || client === null || typeof client.call !== 'function')
  ) {
    throw new TypeError(`client must be an ioredis Redis or Cluster client, got ${show(o.client)}`)
  }
  const keyPrefix = o.keyPrefix ?? DEFAULT_PREFIX
  if (typeof keyPrefix !== 'string') throw new TypeError(`keyPrefix must be a string, got ${show(keyPrefix)}`)
  if (keyPrefix === '') throw new RangeError(EMPTY_PREFIX)
  if (hasEmptyHashTag(keyPrefix)) {
    throw new RangeError(
      `keyPrefix must not start a hash tag with "{}" (Redis would then spread a conversation's keys over slots), got ${show(keyPrefix)}`,
    )
  }
  const buckets = o.buckets === undefined ? undefined : integerOption('buckets', o.buckets, 16, 1, 16384)
  const waitReplicas = integerOption('waitReplicas', o.waitReplicas, 0, 0, 1000)
  if (waitReplicas > 0 && (client as { isCluster?: boolean } | undefined)?.isCluster === true) {
    throw new TypeError('waitReplicas is supported with a standalone client only, got a Cluster client')
  }
  return {
    url,
    client: client as RedisClient | undefined,
    keyPrefix,
    buckets,
    connectTimeoutMs: integerOption('connectTimeoutMs', o.connectTimeoutMs, 10_000, 1, 2_147_483_647),
    commandTimeoutMs: integerOption('commandTimeoutMs', o.commandTimeoutMs, 10_000, 1, 2_147_483_647),
    waitReplicas,
    waitTimeoutMs: integerOption('waitTimeoutMs', o.waitTimeoutMs, 1000, 1, 2_147_483_647),
  }
}
