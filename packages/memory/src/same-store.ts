// Whether <from> and <to> of `taurobot-memory migrate` are one store, however they are spelled.
// Copying a store into itself with --replace deletes each conversation before reading it, and two
// SQLite connections to one database under two names (a hard link) keep separate -wal files, which
// corrupts it: so this is settled before either store is opened. So is whether two Redis key
// prefixes of one database can name the same keys, which --replace into one would delete.
import { stat } from 'node:fs/promises'
import { comparablePath, linkTarget } from './backends/file/store-path.js'
import { askRedis } from './backends/redis/ask-redis.js'
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
    return sameDatabase(x.url, y.url)
  }
  if (x.kind !== y.kind) return false
  if ((await comparablePath(x.path)) === (await comparablePath(y.path))) return true
  const [one, two] = await Promise.all([fileIdentity(x.path), fileIdentity(y.path)])
  return one !== undefined && one === two
}

/**
 * The part of the longer key prefix that makes its keys the shorter one's as well, when both specs
 * are Redis stores on one database; else undefined. Every key of a store is its prefix followed by
 * `format`, `limit` or `{<bucket>}:…`, and is named exactly (never listed by pattern), so a prefix
 * inside another's keyspace (`app:` and `app:x:`) shares no key with it. Only one that goes on
 * like a key of the other (`app:` and `app:{0}:m:`, its conversation lists, or `{0}:w:`, its writer
 * marks) does: its `format` key is then the list of a conversation named `format`.
 */
export async function sharedKeys(a: StoreSpec, b: StoreSpec): Promise<string | undefined> {
  const [x, y] = [a.location, b.location]
  if (x.kind !== 'redis' || y.kind !== 'redis') return undefined
  const [p, q] = [a.keyPrefix ?? DEFAULT_PREFIX, b.keyPrefix ?? DEFAULT_PREFIX]
  const [shorter, longer] = p.length <= q.length ? [p, q] : [q, p]
  const rest = longer.slice(shorter.length)
  if (!longer.startsWith(shorter) || !/^\{\d+\}:[mw]:/.test(rest)) return undefined
  return (await sameDatabase(x.url, y.url)) ? rest : undefined
}

/** Whether two Redis URLs name one database of one server, however they are spelled. */
async function sameDatabase(a: string, b: string): Promise<boolean> {
  if (a === b) return true
  const [one, two] = await Promise.all([redisIdentity(a), redisIdentity(b)])
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
  return askRedis(url, async (client) => {
    const info = await client.info('server')
    const runId = /^run_id:(\w+)/m.exec(info)?.[1]
    return runId === undefined ? undefined : `${runId}/${client.options.db ?? 0}`
  })
}
