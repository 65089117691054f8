// Whether <from> and <to> of `taurobot-memory migrate` are one store, however they are spelled.
// Copying a store into itself with --replace deletes each conversation before reading it, and two
// SQLite connections to one database under two names (a hard link) keep separate -wal files, which
// corrupts it: so this is settled before either store is opened.
import { stat } from 'node:fs/promises'
import { comparablePath, linkTarget } from './backends/file/store-path.js'
import { loadIoredis } from './backends/redis/load-ioredis.js'
import { DEFAULT_PREFIX } from './backends/redis/redis-options.js'
import type { Location } from './location.js'

/** One end of a migration: where it is and, for Redis, the key prefix it is opened with. */
export interface StoreSpec {
  readonly location: Location
  readonly keyPrefix: string | undefined
}

/**
 * True when both specs name one store: for files, the same path once links are resolved, or the
 * same file (device and inode) under another name, such as a hard link; for Redis, the same server
 * (its run_id), database index and key prefix, whatever the URL says (`localhost` or `127.0.0.1`,
 * with or without `/0`).
 */
export async function sameStore(a: StoreSpec, b: StoreSpec): Promise<boolean> {
  const [x, y] = [a.location, b.location]
  if (x.kind === 'redis' || y.kind === 'redis') {
    if (x.kind !== 'redis' || y.kind !== 'redis') return false
    if ((a.keyPrefix ?? DEFAULT_PREFIX) !== (b.keyPrefix ?? DEFAULT_PREFIX)) return false
    if (x.url === y.url) return true
    const [one, two] = await Promise.all([redisIdentity(x.url), redisIdentity(y.url)])
    return one !== undefined && one === two
  }
  if (x.kind !== y.kind) return false
  if ((await comparablePath(x.path)) === (await comparablePath(y.path))) return true
  const [one, two] = await Promise.all([fileIdentity(x.path), fileIdentity(y.path)])
  return one !== undefined && one === two
}

/** `device:inode` of an existing file (links followed), or undefined when there is none. */
async function fileIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(await linkTarget(path), { bigint: true })
    return `${s.dev}:${s.ino}`
  } catch {
    return undefined
  }
}

/**
 * The server's run_id (new at each start of a Redis process) and the database index the URL
 * selects, or undefined when the server cannot be asked: opening the store then reports why.
 */
async function redisIdentity(url: string): Promise<string | undefined> {
  const RedisClass = await loadIoredis()
  const client = new RedisClass(url, {
    lazyConnect: true,
    connectionName: 'taurobot-memory',
    connectTimeout: 5000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.info('server')
    const runId = /^run_id:(\w+)/m.exec(info)?.[1]
    if (runId === undefined) return undefined
    return `${runId}/${client.options.db ?? 0}`
  } catch {
    return undefined
  } finally {
    client.disconnect()
  }
}
