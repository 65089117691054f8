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
  --prefix <prefix>   put before every path, e.g. / for absolute URLs or /static for files
                      served under /static/ (joined with a /); default: relative URLs
  --integrity         add each file's sha256 integrity, checked by precache()
  --out <file>        write the JSON there (default: standard output), making its folder if
                      missing; a .js or .mjs file gets "export default [...]" and its types
                      next to it (.d.ts or .d.mts), for a TypeScript worker that imports it
  -h, --help          show this help
`

const DECLARATIONS = `// Written by sw-cache-manifest with the module next to it: the precache manifest's type.
declare const manifest: { url: string; revision?: string | null; integrity?: string | null }[]
export default manifest
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
    // Node's own text for an unknown option suggests a "--" separator, which is never the fix
    // here. Its other messages (a missing value, a value given to --integrity) say what is wrong.
    const { code, message } = error as Error & { code?: string }
    const option = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'(-[^']*)'/.exec(message)?.[1]
    throw new TypeError(`${option ? `unknown option ${option}` : message}\n\n${USAGE}`)
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
  const module = /\.(m?)js$/.exec(values.out)
  if (!module) {
    await writeFile(values.out, `${json}\n`)
    return void process.stderr.write(`sw-cache-manifest: ${manifest.length} files written to ${values.out}\n`)
  }
  // Without declarations next to it, a strict TypeScript worker cannot import the module (TS7016).
  // They spell the entry type out rather than import it, so they hold wherever the file is written.
  const types = `${values.out.slice(0, module.index)}.d.${module[1]}ts`
  await writeFile(values.out, `export default ${json}\n`)
  await writeFile(types, DECLARATIONS)
  process.stderr.write(
    `sw-cache-manifest: ${manifest.length} files written to ${values.out}, its types to ${types}\n`,
  )
}

main().catch((error: Error) => {
  process.stderr.write(`sw-cache-manifest: ${error.message}\n`)
  process.exitCode = 1
})
