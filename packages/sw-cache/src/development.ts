// Option checks, for development builds only (the long forms of error messages, gated the same
// way, sit next to the errors in errors.ts).
//
// Every function here opens with the same gate: `process.env.NODE_ENV` is compared in place so that
// a bundler that defines it as "production" (esbuild does so by itself for minified browser
// bundles; webpack in production mode; Vite) folds the comparison, finds the `try` block empty and
// drops the whole statement, and with it every check and message below. Without a bundler it is
// read at run time. Where nothing defines it and there is no `process` at all (a service worker
// bundled without such a define), reading it throws a ReferenceError, which lands in the same
// `catch` as the development signal: the checks run.
import type { StaleWhileRevalidateOptions } from './options.js'

/** Throws the `TypeError` (or `RangeError`) of a bad argument unless `valid`. */
function assertOption(
  valid: unknown,
  name: string,
  expected: string,
  value: unknown,
  Kind: typeof TypeError = TypeError,
): void {
  if (!valid)
    throw new Kind(
      `${name} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    )
}

const isName = (value: unknown) => !!value && typeof value === 'string'

/** Development builds: checks the arguments of `staleWhileRevalidate`. */
export function checkStrategy(event: unknown, options: StaleWhileRevalidateOptions): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    const like = event as { request?: unknown; waitUntil?: unknown } | undefined
    assertOption(
      typeof like?.waitUntil === 'function' && like.request,
      'event',
      'an object with request and waitUntil',
      event,
    )
    assertOption(options && typeof options === 'object', 'options', 'an object', options)
    assertOption(isName(options.cacheName), 'cacheName', 'a non-empty string', options.cacheName)
    // Optional options: undefined, or what `ok` accepts.
    const check = (
      name: keyof StaleWhileRevalidateOptions,
      ok: (value: never) => unknown,
      expected: string,
      Kind = RangeError,
    ) =>
      assertOption(
        options[name] === undefined || ok(options[name] as never),
        name,
        expected,
        options[name],
        Kind,
      )
    check('maxEntries', (value: number) => Number.isInteger(value) && value > 0, 'a positive integer')
    check('maxAgeSeconds', (value: number) => typeof value === 'number' && value > 0, 'a positive number')
    check('staleIfError', (value: number) => typeof value === 'number' && value >= 0, 'a number >= 0')
    check('fallback', isName, 'a non-empty string', TypeError)
    for (const name of ['cacheable', 'onError', 'onRevalidated'] as const)
      check(name, (value) => typeof value === 'function', 'a function', TypeError)
  }
}

/** Development builds: checks the arguments of `precache`. */
export function checkPrecache(cacheName: unknown, entries: unknown): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    assertOption(isName(cacheName), 'cacheName', 'a non-empty string', cacheName)
    assertOption(Array.isArray(entries), 'entries', 'an array of URLs or manifest entries', entries)
    ;(entries as unknown[]).forEach((entry, i) => {
      const name = `entries[${i}]`
      if (isName(entry) || entry instanceof Request) return
      assertOption(
        entry && typeof entry === 'object',
        name,
        'a URL, a Request or { url, revision?, integrity? }',
        entry,
      )
      const { url, revision, integrity } = entry as Record<string, unknown>
      assertOption(isName(url), `${name}.url`, 'a non-empty string', url)
      for (const [key, value] of Object.entries({ revision, integrity }))
        assertOption(value == null || isName(value), `${name}.${key}`, 'a non-empty string or null', value)
    })
  }
}

/** Development builds: checks the options of `deleteOldCaches`. */
export function checkDeleteOldCaches(options: { keep?: unknown; prefix?: unknown } | undefined): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    const { keep, prefix } = options ?? {}
    assertOption(
      Array.isArray(keep) && keep.every((name) => typeof name === 'string'),
      'keep',
      'an array of cache names',
      keep,
    )
    assertOption(prefix === undefined || isName(prefix), 'prefix', 'a non-empty string', prefix)
  }
}

/** Development builds: checks the `channelName` of `broadcastUpdate` and `serveUpdates`. */
export function checkChannelName(channelName: unknown): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    assertOption(isName(channelName), 'channelName', 'a non-empty string', channelName)
  }
}

/** Development builds: checks the arguments of `cachedRange`. */
export function checkCachedRange(request: unknown, options: { cacheName?: unknown } | undefined): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    assertOption(request instanceof Request, 'request', 'a Request', request)
    assertOption(
      options === undefined || (options && typeof options === 'object'),
      'options',
      'an object',
      options,
    )
    const { cacheName } = options ?? {}
    assertOption(cacheName === undefined || isName(cacheName), 'cacheName', 'a non-empty string', cacheName)
  }
}
