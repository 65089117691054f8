#!/usr/bin/env node
// sw-cache-manifest: prints (or writes) the precache manifest of a folder, for sites built without
// a bundler plugin.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { buildManifest } from './manifest.js'

const USAGE = `Usage: sw-cache-manifest <dir> [options]

Lists every file under <dir> as { url, revision } with a content hash as revision, the manifest
precache() of @taurobot/sw-cache takes. Dotfiles, source maps and sw.js are left out.

Options:
  --prefix <prefix>   put before every path, e.g. / for absolute URLs (default: relative URLs)
  --integrity         add each file's sha256 integrity, checked by precache()
  --out <file>        write the JSON there (default: standard output), making its folder if
                      missing; a .js or .mjs file gets "export default [...]"
  -h, --help          show this help
`

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      prefix: { type: 'string' },
      integrity: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse()
  } catch (error) {
    // Node's own text suggests a "--" separator, which is never the fix here.
    const option = /'(-[^']*)'/.exec((error as Error).message)?.[1]
    throw new TypeError(`${option ? `unknown option ${option}` : (error as Error).message}\n\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help) return void process.stdout.write(USAGE)
  const [dir, ...extra] = positionals
  if (!dir || extra.length) throw new TypeError(`expected one folder, got ${positionals.length}\n\n${USAGE}`)
  const manifest = await buildManifest(dir, { prefix: values.prefix ?? '', integrity: !!values.integrity })
  const json = JSON.stringify(manifest, null, 2)
  if (!values.out) return void process.stdout.write(`${json}\n`)
  // Its folder is made if missing, as writing into a build's source tree usually needs.
  await mkdir(dirname(values.out), { recursive: true })
  await writeFile(values.out, /\.m?js$/.test(values.out) ? `export default ${json}\n` : `${json}\n`)
  process.stderr.write(`sw-cache-manifest: ${manifest.length} files written to ${values.out}\n`)
}

main().catch((error: Error) => {
  process.stderr.write(`sw-cache-manifest: ${error.message}\n`)
  process.exitCode = 1
})
