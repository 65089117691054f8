import { fileURLToPath } from 'node:url'
import { show } from './message.js'
import { redactText } from './redact.js'

/** Which backend a `path` string names, and what to hand it. */
export type Location =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string }

/** File extensions that select the SQLite backend. */
export const SQLITE_EXTENSIONS: readonly string[] = ['.db', '.sqlite', '.sqlite3']

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i

/**
 * Reads what `openMemory({ path })` and the CLI are given: a `redis://` or `rediss://` URL is the
 * Redis backend, a file ending in `.db`, `.sqlite` or `.sqlite3` the SQLite backend, any other
 * file the JSON file backend (`file://` URLs included). Any other URL is refused: it would
 * otherwise become a file named after it (`./http:/host/...`).
 */
export function locate(spec: string): Location {
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase()
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'redis', url: spec }
  let path = spec
  if (scheme === 'file') {
    try {
      path = fileURLToPath(spec)
    } catch (error) {
      throw new TypeError(
        `path ${show(redactText(spec))} is not a valid file: URL (${(error as Error).message})`,
      )
    }
  } else if (scheme !== undefined) {
    throw new TypeError(
      `path ${show(redactText(spec))} is a ${scheme}: URL, which is not a store: give a file path ` +
        `(memory/conversations.json, or .db for SQLite) or a redis:// URL`,
    )
  }
  const lower = path.toLowerCase()
  if (SQLITE_EXTENSIONS.some((extension) => lower.endsWith(extension))) return { kind: 'sqlite', path }
  return { kind: 'file', path }
}

/**
 * Refuses a URL where a backend wants a file path (`fileBackend`, `sqliteBackend`): without this
 * check, `redis://host:6379` would become a local folder `redis:/host:6379` and the bot would
 * silently keep its conversations on one machine.
 */
export function assertFilePath(path: string): void {
  const scheme = SCHEME.exec(path)?.[1]?.toLowerCase()
  if (scheme === undefined) return
  const instead =
    scheme === 'redis' || scheme === 'rediss'
      ? 'for Redis, use redisBackend({ url }) from @taurobot/memory/redis, or openMemory({ path: url })'
      : scheme === 'file'
        ? 'give the file path itself (url.fileURLToPath), or pass the URL to openMemory({ path })'
        : 'give a file path such as memory/conversations.json'
  throw new TypeError(`path ${show(redactText(path))} is a ${scheme}: URL, not a file path: ${instead}`)
}
