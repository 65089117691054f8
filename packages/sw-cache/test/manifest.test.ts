// The Node-side manifest builder and its CLI, on real folders; the CLI runs from the built package.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSwCacheError } from '../src/index.js'
import { buildManifest } from '../src/manifest.js'

const CLI = fileURLToPath(new URL('../dist/manifest-cli.js', import.meta.url))
let site: string

function write(path: string, body: string) {
  mkdirSync(dirname(join(site, path)), { recursive: true })
  writeFileSync(join(site, path), body)
}

beforeEach(() => {
  site = mkdtempSync(join(tmpdir(), 'sw-cache-site-'))
  write('index.html', '<shell>')
  write('assets/app.js', 'app 1')
  write('assets/app.js.map', '{}')
  write('.well-known/x', 'hidden')
  write('sw.js', 'worker')
})

afterEach(() => rmSync(site, { recursive: true, force: true }))

describe('buildManifest', () => {
  it('lists every file with a content hash as revision, sorted, leaving out dotfiles, maps and sw.js', async () => {
    const first = await buildManifest(site)
    expect(first.map((entry) => entry.url)).toEqual(['assets/app.js', 'index.html'])
    expect(first.every((entry) => /^[0-9a-f]{20}$/.test(entry.revision as string))).toBe(true)
    write('assets/app.js', 'app 2')
    const second = await buildManifest(site, { prefix: '/' })
    expect(second.map((entry) => entry.url)).toEqual(['/assets/app.js', '/index.html'])
    // Only the changed file's revision changes.
    expect(second[0]?.revision).not.toBe(first[0]?.revision)
    expect(second[1]?.revision).toBe(first[1]?.revision)
  })

  it('joins a prefix that does not end in / with one, and leaves one that does as it is', async () => {
    const urls = async (prefix: string) => (await buildManifest(site, { prefix })).map((entry) => entry.url)
    expect(await urls('/static')).toEqual(['/static/assets/app.js', '/static/index.html'])
    expect(await urls('/static/')).toEqual(['/static/assets/app.js', '/static/index.html'])
    expect(await urls('https://cdn.example.com/app')).toEqual([
      'https://cdn.example.com/app/assets/app.js',
      'https://cdn.example.com/app/index.html',
    ])
    expect(await urls('static')).toEqual(['static/assets/app.js', 'static/index.html'])
    // The documented forms are unchanged: relative URLs by default, absolute ones with '/'.
    expect(await urls('')).toEqual(['assets/app.js', 'index.html'])
    expect(await urls('/')).toEqual(['/assets/app.js', '/index.html'])
  })

  it('escapes the characters a URL would read as syntax, so each URL fetches its file', async () => {
    const names = ['50%off.txt', 'a#b.txt', 'q?.txt', 'back\\slash.txt', 'café au lait.txt']
    for (const name of names) write(`files/${name}`, name)
    const manifest = await buildManifest(site, { prefix: '/', exclude: (path) => !path.startsWith('files/') })
    expect(manifest.map((entry) => entry.url)).toEqual([
      '/files/50%25off.txt',
      '/files/a%23b.txt',
      '/files/back%5Cslash.txt',
      '/files/café au lait.txt',
      '/files/q%3F.txt',
    ])
    // What a server gets for each URL, as a browser sends it: the file's own path, no query or fragment.
    for (const { url } of manifest) {
      const parsed = new URL(url, 'http://127.0.0.1/')
      expect(parsed.search + parsed.hash).toBe('')
      expect(names).toContain(decodeURIComponent(parsed.pathname).slice('/files/'.length))
    }
  })

  it('adds Subresource Integrity on request and honours exclude', async () => {
    const manifest = await buildManifest(site, {
      integrity: true,
      exclude: (path) => path !== 'index.html',
    })
    expect(manifest).toEqual([
      {
        url: 'index.html',
        revision: expect.any(String),
        integrity: `sha256-${createHash('sha256').update('<shell>').digest('base64')}`,
      },
    ])
  })

  it('names every bad argument', async () => {
    await expect(buildManifest('')).rejects.toThrow(new TypeError('dir must be a non-empty string, got '))
    await expect(buildManifest(site, null as never)).rejects.toThrow(
      new TypeError('options must be an object, got null'),
    )
    await expect(buildManifest(site, { prefix: 1 as never })).rejects.toThrow(
      new TypeError('prefix must be a string, got 1'),
    )
    await expect(buildManifest(site, { exclude: 'x' as never })).rejects.toThrow(
      new TypeError('exclude must be a function, got x'),
    )
    await expect(buildManifest(site, { integrity: 'yes' as never })).rejects.toThrow(
      new TypeError('integrity must be true or false, got yes'),
    )
    // A misspelt option would otherwise build a manifest without it.
    await expect(buildManifest(site, { prefx: '/' } as never)).rejects.toThrow(
      new TypeError('unknown option "prefx" of buildManifest(): did you mean prefix?'),
    )
    await expect(buildManifest(site, { sri: true } as never)).rejects.toThrow(
      new TypeError('unknown option "sri" of buildManifest(): known options: prefix, exclude, integrity'),
    )
    const missing = join(site, 'missing')
    const error = await buildManifest(missing).catch((caught: unknown) => caught)
    expect(isSwCacheError(error, 'manifest-failed')).toBe(true)
    expect((error as Error).message).toContain(`cannot read the folder "${missing}": ENOENT`)
  })
})

describe('sw-cache-manifest', () => {
  it('prints the manifest, or writes it as JSON or as a module', () => {
    const printed = JSON.parse(
      execFileSync(process.execPath, [CLI, site, '--prefix', '/'], { encoding: 'utf8' }),
    )
    expect(printed.map((entry: { url: string }) => entry.url)).toEqual(['/assets/app.js', '/index.html'])
    const out = join(site, '.manifest.js')
    execFileSync(process.execPath, [CLI, site, '--integrity', '--out', out], { stdio: 'pipe' })
    expect(readFileSync(out, 'utf8')).toMatch(/^export default \[\n {2}\{\n {4}"url": "assets\/app.js",/)
    expect(readFileSync(out, 'utf8')).toContain('"integrity": "sha256-')
    // A folder that does not exist yet is made, as for --out src/precache-manifest.js in a new project.
    const nested = join(site, '.generated', 'src', 'precache-manifest.json')
    execFileSync(process.execPath, [CLI, site, '--out', nested], { stdio: 'pipe' })
    expect(JSON.parse(readFileSync(nested, 'utf8'))).toHaveLength(2)
  })

  it('joins --prefix /static to each path with a /', () => {
    const printed = JSON.parse(
      execFileSync(process.execPath, [CLI, site, '--prefix', '/static'], { encoding: 'utf8' }),
    )
    expect(printed.map((entry: { url: string }) => entry.url)).toEqual([
      '/static/assets/app.js',
      '/static/index.html',
    ])
  })

  it('writes the types of a .js or .mjs manifest next to it, for a strict TypeScript worker', () => {
    const project = mkdtempSync(join(tmpdir(), 'sw-cache-ts-'))
    try {
      execFileSync(process.execPath, [CLI, site, '--out', join(project, 'src/precache-manifest.js')], {
        stdio: 'pipe',
      })
      execFileSync(process.execPath, [CLI, site, '--out', join(project, 'src/other.mjs')], { stdio: 'pipe' })
      expect(readFileSync(join(project, 'src/other.d.mts'), 'utf8')).toContain('export default manifest')
      const precacheTypes = fileURLToPath(new URL('../src/precache.js', import.meta.url)).replace(/\.js$/, '')
      const worker = join(project, 'src/sw.ts')
      writeFileSync(
        worker,
        [
          "import manifest from './precache-manifest.js'",
          "import other from './other.mjs'",
          `import type { PrecacheEntry } from ${JSON.stringify(precacheTypes)}`,
          'export const entries: PrecacheEntry[] = [...manifest, ...other]',
          '',
        ].join('\n'),
      )
      const program = ts.createProgram([worker], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        types: [],
        skipLibCheck: false,
      })
      // Only the worker's own files: the package's sources are checked by its own tsconfig.
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file === undefined || d.file.fileName.startsWith(project))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      expect(problems).toEqual([])
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })

  it('exits 1 with a message on a missing folder or bad arguments', () => {
    const missing = spawnSync(process.execPath, [CLI, join(site, 'missing')], { encoding: 'utf8' })
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('sw-cache-manifest: [@taurobot/sw-cache] cannot read the folder')
    const none = spawnSync(process.execPath, [CLI], { encoding: 'utf8' })
    expect(none.status).toBe(1)
    expect(none.stderr).toContain('expected one folder, got 0')
    const unknown = spawnSync(process.execPath, [CLI, site, '--bogus'], { encoding: 'utf8' })
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('sw-cache-manifest: unknown option --bogus\n\nUsage: sw-cache-manifest')
    // A known option used wrongly is not called unknown.
    const noValue = spawnSync(process.execPath, [CLI, site, '--prefix'], { encoding: 'utf8' })
    expect(noValue.status).toBe(1)
    expect(noValue.stderr).toContain(
      "sw-cache-manifest: Option '--prefix <value>' argument missing\n\nUsage:",
    )
    const flagValue = spawnSync(process.execPath, [CLI, site, '--integrity=yes'], { encoding: 'utf8' })
    expect(flagValue.status).toBe(1)
    expect(flagValue.stderr).toContain("sw-cache-manifest: Option '--integrity' does not take an argument")
  })
})
