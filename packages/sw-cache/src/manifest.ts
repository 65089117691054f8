// The Node side of revisioned precaching: builds the manifest `precache` takes from a folder, for
// sites built without a bundler plugin. A separate entry (`@taurobot/sw-cache/manifest`) that no
// service worker imports.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { assertNames } from './development.js'
import { SwCacheError } from './errors.js'
import type { PrecacheEntry } from './precache.js'

/** Options of {@link buildManifest}. */
export interface BuildManifestOptions {
  /**
   * Put before every path to make its URL, e.g. `/` for absolute URLs or `/static` for files served
   * under `/static/`. A prefix that does not end in `/` is joined to the path with one (`/static`
   * gives `/static/index.html`). Without a prefix, relative URLs resolve against the service
   * worker's URL, as in Workbox manifests.
   * @default ''
   */
  prefix?: string
  /**
   * Which files to leave out, by their path relative to the folder with `/` separators.
   * @default dotfiles and folders, source maps and `sw.js` (a function given here replaces this rule)
   */
  exclude?: (path: string) => boolean
  /**
   * Also write each file's `sha256-…` Subresource Integrity, which `precache` then checks.
   * @default false
   */
  integrity?: boolean
}

const defaultExclude = (path: string) => /(^|\/)\.|\.map$|(^|\/)sw\.js$/.test(path)

/**
 * Lists every file under `dir` as a manifest entry `{ url, revision }` whose revision is a hash of
 * its content, sorted by URL, so a release changes exactly the revisions of the files that changed.
 * Rejects with a `manifest-failed` {@link SwCacheError} when the folder cannot be read.
 *
 * @example
 * ```ts
 * import { buildManifest } from '@taurobot/sw-cache/manifest'
 * const manifest = await buildManifest('dist', { prefix: '/' })
 * // [{ url: '/index.html', revision: '5d41402abc4b2a76b971' }, ...]
 * ```
 */
export async function buildManifest(
  dir: string,
  options: BuildManifestOptions = {},
): Promise<PrecacheEntry[]> {
  if (typeof dir !== 'string' || !dir)
    throw new TypeError(`dir must be a non-empty string, got ${String(dir)}`)
  if (!options || typeof options !== 'object')
    throw new TypeError(`options must be an object, got ${String(options)}`)
  // A misspelt name (`prefx`, `integirty`) would build a manifest without it, unnoticed.
  assertNames(options, ['prefix', 'exclude', 'integrity'], 'buildManifest()')
  const { prefix = '', exclude = defaultExclude, integrity = false } = options
  if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${String(prefix)}`)
  if (typeof exclude !== 'function') throw new TypeError(`exclude must be a function, got ${String(exclude)}`)
  if (typeof integrity !== 'boolean')
    throw new TypeError(`integrity must be true or false, got ${String(integrity)}`)
  // A folder's name (`/static`, `https://cdn.example.com/app`) is what a prefix without its
  // trailing `/` means: pasted as it is, it would give `/staticindex.html`.
  const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix
  let files: string[]
  try {
    files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
  } catch (cause) {
    throw new SwCacheError(
      'manifest-failed',
      `cannot read the folder "${dir}": ${(cause as Error).message}. Check the path; no manifest was built.`,
      {
        cause,
        details: { dir },
      },
    )
  }
  const entries: PrecacheEntry[] = []
  for (const path of files.filter((file) => !exclude(file)).sort()) {
    const body = await readFile(join(dir, path))
    const entry: PrecacheEntry = {
      // `%`, `#` and `?` in a file name would be read as URL syntax (an escape, the fragment, the
      // query), and `\` as `/`: escaped, so that the URL fetches this file. Everything else is left
      // for the URL parser to encode, as it does for the page's own requests, so the precached copy
      // is found under the URL the page asks for.
      url: base + path.replace(/[%#?\\]/g, encodeURIComponent),
      revision: createHash('sha256').update(body).digest('hex').slice(0, 20),
    }
    if (integrity) entry.integrity = `sha256-${createHash('sha256').update(body).digest('base64')}`
    entries.push(entry)
  }
  return entries
}
