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
  if (!valid) throw new Kind(`${name} must be ${expected}, got ${show(value)}`)
}

/**
 * A refused value as a message shows it. An array is named, not joined: `precache(manifest)`, its
 * cache name forgotten, would print every entry as "[object Object]". An object is shown by its
 * tag, which also holds for one without a prototype (String() throws on it).
 */
const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? 'an array'
      : value && typeof value === 'object'
        ? Object.prototype.toString.call(value)
        : String(value)

const isName = (value: unknown) => !!value && typeof value === 'string'

/** Edit distance, a swap of two neighbouring letters counting as one edit (`maxEntires`). */
function distance(a: string, b: string): number {
  // d[i][j]: distance between the first i letters of a and the first j of b.
  const d = [...Array(a.length + 1)].map((_, i) => [i, ...Array(b.length).fill(0)] as number[])
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[]
      const up = d[i - 1] as number[]
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
    }
  return (d[a.length] as number[])[b.length] as number
}

/**
 * Throws a `TypeError` for an option name `known` lacks, with the name probably meant. Not gated:
 * the Node-side manifest builder checks its options in every build.
 */
export function assertNames(options: object, known: readonly string[], where: string): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue
    // Near enough to be a typo (a third of the longer name's letters, at least one), or the start of a known
    // name (`maxEntry`, `cache`) or a known name with more after it.
    const lower = name.toLowerCase()
    const meant = known
      .map((candidate) => [distance(name, candidate), candidate] as const)
      .sort((x, y) => x[0] - y[0])
      .find(
        ([d, candidate]) =>
          d <= Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3)) ||
          (lower.length > 2 && candidate.toLowerCase().startsWith(lower)) ||
          lower.startsWith(candidate.toLowerCase()),
      )
    throw new TypeError(
      `unknown option "${name}" of ${where}: ${meant ? `did you mean ${meant[1]}?` : `known options: ${known.join(', ')}`}`,
    )
  }
}

// Records, so that an option added to the interface and not here fails to type-check.
// Pure: a production bundle, where nothing reads it, drops it (the whole module is development-only).
const strategyOptions = /* @__PURE__ */ Object.keys({
  cacheName: 1,
  maxEntries: 1,
  maxAgeSeconds: 1,
  fallback: 1,
  staleIfError: 1,
  cacheable: 1,
  onError: 1,
  onRevalidated: 1,
} satisfies Record<keyof StaleWhileRevalidateOptions, 1>)

// Subresource Integrity metadata: hash expressions separated by spaces, each with an algorithm
// browsers check. An unknown algorithm (md5, sha1) is skipped by the browser, so the download
// would be stored unchecked.
const SRI = /^\s*(sha(256|384|512)-[A-Za-z0-9+/_-]+={0,2}(\?\S*)?\s*)+$/

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
    assertNames(options, strategyOptions, 'staleWhileRevalidate()')
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
    // A number out of range is a RangeError; anything else (`'10'`) is the wrong type, a TypeError.
    const number = (
      name: 'maxEntries' | 'maxAgeSeconds' | 'staleIfError',
      ok: (value: number) => boolean,
      expected: string,
    ) =>
      check(
        name,
        (value: unknown) => typeof value === 'number' && ok(value),
        expected,
        typeof options[name] === 'number' ? RangeError : TypeError,
      )
    number('maxEntries', (value) => Number.isInteger(value) && value > 0, 'a positive integer')
    number('maxAgeSeconds', (value) => value > 0, 'a positive number')
    number('staleIfError', (value) => value >= 0, 'a number >= 0')
    check('fallback', isName, 'a non-empty string', TypeError)
    // The fallback is found by the URL it was precached under, which resolves against the worker's
    // URL; a relative one here would resolve against each request's URL instead.
    check(
      'fallback',
      (value: string) => /^(\/|[a-z][a-z\d+.-]*:)/i.test(value),
      'a path starting with "/" or a full URL, as the page was precached (e.g. "/index.html")',
    )
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
      // A misspelt key (`revison`) would precache the file without its revision, unnoticed.
      assertNames(entry as object, ['url', 'revision', 'integrity'], `precache() ${name}`)
      const { url, revision, integrity } = entry as Record<string, unknown>
      assertOption(isName(url), `${name}.url`, 'a non-empty string', url)
      for (const [key, value] of Object.entries({ revision, integrity }))
        assertOption(value == null || isName(value), `${name}.${key}`, 'a non-empty string or null', value)
      // The revision is stored in a response header: a character past Latin-1 (or a line break)
      // fails the install with the Headers' own TypeError, which names no entry, and a header
      // drops a space before it, so it would differ from the next release's and the file would be
      // downloaded by every release.
      assertOption(
        revision == null || !/[^\x20-\x7e\xa0-\xff]|^ /.test(revision as string),
        `${name}.revision`,
        'printable Latin-1 characters, not starting with a space (it is stored in a response header)',
        revision,
        RangeError,
      )
      assertOption(
        integrity == null || SRI.test(integrity as string),
        `${name}.integrity`,
        'Subresource Integrity metadata: "sha256-", "sha384-" or "sha512-" and the base64 digest (browsers skip other algorithms and would store the file unchecked)',
        integrity,
        RangeError,
      )
    })
  }
}

/** Development builds: checks the options of `deleteOldCaches`. */
export function checkDeleteOldCaches(options: { keep?: unknown; prefix?: unknown } | undefined): void {
  try {
    if (process.env.NODE_ENV !== 'production') throw 0
  } catch {
    if (options && typeof options === 'object') assertNames(options, ['keep', 'prefix'], 'deleteOldCaches()')
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
    if (options) assertNames(options, ['cacheName'], 'cachedRange()')
    const { cacheName } = options ?? {}
    assertOption(cacheName === undefined || isName(cacheName), 'cacheName', 'a non-empty string', cacheName)
  }
}
