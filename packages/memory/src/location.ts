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
// A URL typed without its `//` (`redis:host:6379`), or with the colon lost (`redis//host`): left
// alone these become local files or folders. One letter before a colon is a Windows drive (`C:`).
const SCHEME_LIKE = /^[a-z]{2,}:/i
const REDIS_WITHOUT_COLON = /^rediss?(?:\/\/|:\/)/i

/** True for `redis://` and `rediss://` URLs, in any case (URL schemes are case-insensitive). */
export function isRedisUrl(spec: string): boolean {
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase()
  return scheme === 'redis' || scheme === 'rediss'
}

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
  } else {
    assertNotMistypedUrl(spec)
  }
  const lower = path.toLowerCase()
  if (SQLITE_EXTENSIONS.some((extension) => lower.endsWith(extension))) return { kind: 'sqlite', path }
  // Here too, so the CLI refuses `memory2/` before it opens either store.
  assertNotDirectory(path, 'conversations.json')
  return { kind: 'file', path }
}

/**
 * Refuses a URL where a backend wants a file path (`fileBackend`, `sqliteBackend`): without this
 * check, `redis://host:6379` would become a local folder `redis:/host:6379` and the bot would
 * silently keep its conversations on one machine. Refuses a directory path (ending in a
 * separator) too, suggesting `example` inside it.
 */
export function assertFilePath(path: string, example = 'conversations.json'): void {
  const scheme = SCHEME.exec(path)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    assertNotMistypedUrl(path)
    assertNotDirectory(path, example)
    return
  }
  const instead =
    scheme === 'redis' || scheme === 'rediss'
      ? 'for Redis, use redisBackend({ url }) from @taurobot/memory/redis, or openMemory({ path: url })'
      : scheme === 'file'
        ? 'give the file path itself (url.fileURLToPath), or pass the URL to openMemory({ path })'
        : 'give a file path such as memory/conversations.json'
  throw new TypeError(`path ${show(redactText(path))} is a ${scheme}: URL, not a file path: ${instead}`)
}

/**
 * Refuses a path ending in a separator (`memory/`): it names a directory, and the store would
 * otherwise quietly create a file called `memory` in its place.
 */
function assertNotDirectory(path: string, example: string): void {
  const last = path[path.length - 1]
  if (last !== '/' && !(last === '\\' && process.platform === 'win32')) return
  throw new TypeError(
    `path ${show(path)} ends in a separator, so it names a directory, not a file: ` +
      `give the store's file inside it, such as ${show(`${path}${example}`)}`,
  )
}

/**
 * Refuses a path that reads like a URL with a typo (`redis:127.0.0.1:6379`, `redis//host`,
 * `rediss:/host`): it would otherwise become a file or folder in the working directory and the
 * bot would keep its conversations there without a word. A file that really has such a name is
 * still reachable as `./redis:x`.
 */
function assertNotMistypedUrl(path: string): void {
  if (!SCHEME_LIKE.test(path) && !REDIS_WITHOUT_COLON.test(path)) return
  // redactText knows only well-formed URLs; a password before an `@` is masked here too.
  const shown = redactText(path).replace(/:[^:/@\s]*@/, ':***@')
  throw new TypeError(
    `path ${show(shown)} looks like a mistyped URL, not a file path: write a Redis URL as ` +
      `redis://host:6379 (or rediss://host:6380 for TLS); for a file of that name, write ${show(`./${shown}`)}`,
  )
}
