#!/usr/bin/env node
// sw-cache-manifest: prints (or writes) the precache manifest of a folder, for sites built without
// a bundler plugin.
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { buildManifest } from './manifest.js'

const USAGE = `Usage: sw-cache-manifest <dir> [options]

Lists every file under <dir> as { url, revision } with a content hash as revision, the manifest
precache() of @taurobot/sw-cache takes. Dotfiles, source maps and sw.js are left out.

Options:
  --prefix <prefix>   put before every path, e.g. / for absolute URLs (default: relative URLs)
  --integrity         add each file's sha256 integrity, checked by precache()
  --out <file>        write the JSON there (default: standard output); a .js or .mjs file gets
                      "export default [...]"
  -h, --help          show this help
`

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      prefix: { type: 'string' },
      integrity: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return void process.stdout.write(USAGE)
  const [dir, ...extra] = positionals
  if (!dir || extra.length) throw new TypeError(`expected one folder, got ${positionals.length}\n\n${USAGE}`)
  const manifest = await buildManifest(dir, { prefix: values.prefix ?? '', integrity: !!values.integrity })
  const json = JSON.stringify(manifest, null, 2)
  if (!values.out) return void process.stdout.write(`${json}\n`)
  await writeFile(values.out, /\.m?js$/.test(values.out) ? `export default ${json}\n` : `${json}\n`)
  process.stderr.write(`sw-cache-manifest: ${manifest.length} files written to ${values.out}\n`)
}

main().catch((error: Error) => {
  process.stderr.write(`sw-cache-manifest: ${error.message}\n`)
  process.exitCode = 1
})
