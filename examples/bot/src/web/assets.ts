import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** One file the web server can send, held in memory with its validator. */
export interface Asset {
  body: Buffer
  contentType: string
  etag: string
  /** Service workers and the pages that register them are revalidated on every load. */
  cacheControl: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/manifest+json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
}

const here = fileURLToPath(new URL('.', import.meta.url))
const publicDir = join(here, 'public')

function asset(body: Buffer | string, file: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return {
    body: bytes,
    contentType: TYPES[extname(file)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`,
    cacheControl: 'no-cache',
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

async function bundle(entry: string, define: Record<string, string> = {}): Promise<string> {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    define,
    logLevel: 'silent',
  })
  const out = result.outputFiles[0]
  if (out === undefined) throw new Error(`esbuild produced nothing for ${entry}`)
  return out.text
}

/**
 * Builds the page script and the service worker with esbuild, and loads the static files. The
 * service worker gets the precache manifest of the app shell (each URL with its content hash as
 * revision, so a new release downloads only the files that changed) and a version derived from
 * them: a changed shell installs a new cache and the old one is deleted on activate.
 */
export async function buildAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>()
  for (const file of await listFiles(publicDir)) {
    const path = `/${relative(publicDir, file).split(sep).join('/')}`
    assets.set(path, asset(await readFile(file), file))
  }
  assets.set('/app.js', asset(await bundle('page/app.ts'), 'app.js'))
  const index = assets.get('/index.html')
  if (index === undefined) throw new Error('public/index.html is missing')
  assets.set('/', index)

  const shell = [...assets.keys()].sort().map((url) => ({ url, revision: assets.get(url)?.etag ?? null }))
  const version = createHash('sha256')
  for (const { url, revision } of shell) version.update(url).update(revision ?? '')
  const sw = await bundle('sw.ts', {
    SHELL_MANIFEST: JSON.stringify(shell),
    SHELL_VERSION: JSON.stringify(version.digest('hex').slice(0, 12)),
  })
  assets.set('/sw.js', asset(sw, 'sw.js'))
  return assets
}
