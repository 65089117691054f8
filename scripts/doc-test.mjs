#!/usr/bin/env node
// README examples are code: every ```ts block of the Markdown files below is extracted and
// type-checked against the built packages, as a user who copies it would compile it, and the
// blocks marked `<!-- doc-test: run -->` are also run in an empty directory. Needs `pnpm build`.
//
// A block is a module of its own (top-level await allowed). The comment line before its fence
// may say how to treat it:
//   <!-- doc-test: run -->      type-check, then run it with Node; it must exit 0 within 60 s
//   <!-- doc-test: worker -->   type-check it as a service-worker file (lib "webworker")
//   <!-- doc-test: page -->     type-check it as a browser page script (lib "dom")
import { spawnSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const work = join(root, '.tmp', 'doc-test')

const markdownFiles = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}/README.md`),
  ...readdirSync(join(root, 'examples')).map((name) => `examples/${name}/README.md`),
].filter((file) => {
  try {
    readFileSync(join(root, file))
    return true
  } catch {
    return false
  }
})

// What an example may import, and where a user's install would put it.
const modules = {
  '@taurobot/memory': 'packages/memory',
  '@taurobot/voice': 'packages/voice',
  '@taurobot/sw-cache': 'packages/sw-cache',
  '@taurobot/espeak-ng-wasm': 'packages/espeak-ng-wasm',
  grammy: 'examples/bot/node_modules/grammy',
  ioredis: 'packages/memory/node_modules/ioredis',
  'prom-client': 'packages/voice/node_modules/prom-client',
  ai: 'packages/memory/node_modules/ai',
  '@langchain/core': 'packages/memory/node_modules/@langchain/core',
}

/** The ```ts blocks of one Markdown file, with the line of their fence and their marker. */
function extractBlocks(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue
    const marker = /^<!--\s*doc-test:\s*([\w-]+)\s*-->\s*$/.exec(lines[i - 1] ?? '')?.[1] ?? 'check'
    if (!['check', 'run', 'worker', 'page'].includes(marker)) {
      throw new Error(`${file}:${i}: unknown doc-test marker "${marker}" (use run, worker or page)`)
    }
    const end = lines.indexOf('```', i + 1)
    if (end === -1) throw new Error(`${file}:${i + 1}: the ts block is not closed`)
    blocks.push({ file, line: i + 1, marker, code: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  return blocks
}

function slug(block) {
  return `${block.file.replace(/\/README\.md$|\.md$/, '').replace(/[^\w]+/g, '-')}-L${block.line}`
}

function prepare(blocks) {
  rmSync(work, { recursive: true, force: true })
  for (const [name, target] of Object.entries(modules)) {
    const link = join(work, 'node_modules', name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(root, target), link)
  }
  const groups = { node: [], worker: [], page: [] }
  for (const block of blocks) {
    const group = block.marker === 'worker' || block.marker === 'page' ? block.marker : 'node'
    const name = `${group}/${slug(block)}.ts`
    block.source = join(work, name)
    mkdirSync(dirname(block.source), { recursive: true })
    // `export {}` makes every block a module, so top-level await and local names are allowed.
    writeFileSync(block.source, `${block.code}\nexport {}\n`)
    groups[group].push(name)
  }
  const base = {
    strict: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    skipLibCheck: true,
    noEmit: true,
    noUnusedLocals: false,
  }
  const libs = { node: ['ES2022'], worker: ['ES2022', 'WebWorker'], page: ['ES2022', 'DOM'] }
  for (const [group, files] of Object.entries(groups)) {
    if (files.length === 0) continue
    const compilerOptions = { ...base, lib: libs[group], types: group === 'node' ? ['node'] : [] }
    writeFileSync(join(work, `tsconfig.${group}.json`), JSON.stringify({ compilerOptions, files }, null, 2))
  }
  writeFileSync(join(work, 'package.json'), '{ "type": "module", "private": true }\n')
  return Object.keys(groups).filter((group) => groups[group].length > 0)
}

/** tsc's diagnostics, mapped back to the Markdown line they come from. */
function typeCheck(groups, blocks) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  let failed = 0
  for (const group of groups) {
    const result = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${group}.json`, '--pretty', 'false'], {
      cwd: work,
      encoding: 'utf8',
    })
    if (result.status === 0) continue
    for (const line of `${result.stdout}${result.stderr}`.split('\n').filter(Boolean)) {
      const match = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line)
      const block = match && blocks.find((b) => b.source === join(work, match[1]))
      if (block) {
        console.error(`${block.file}:${block.line + Number(match[2])}: ${match[4]}`)
        failed++
      } else {
        console.error(line)
        failed++
      }
    }
  }
  return failed
}

/** Compiles a `run` block with esbuild's type stripping and runs it in an empty directory. */
function run(block) {
  const esbuild = join(root, 'examples', 'bot', 'node_modules', 'esbuild', 'bin', 'esbuild')
  const js = block.source.replace(/\.ts$/, '.mjs')
  const build = spawnSync(
    esbuild,
    [block.source, `--outfile=${js}`, '--format=esm', '--target=node20', '--log-level=error'],
    {
      encoding: 'utf8',
    },
  )
  if (build.status !== 0) return `esbuild failed: ${build.stderr}`
  const cwd = mkdtempSync(join(tmpdir(), 'doc-test-'))
  try {
    const result = spawnSync(process.execPath, [js], { cwd, encoding: 'utf8', timeout: 60_000 })
    if (result.status === 0) return undefined
    return `exited with ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

const blocks = markdownFiles.flatMap(extractBlocks)
const groups = prepare(blocks)
let failed = typeCheck(groups, blocks)
const runnable = blocks.filter((block) => block.marker === 'run')
for (const block of runnable) {
  const problem = run(block)
  if (problem !== undefined) {
    console.error(`${block.file}:${block.line}: the example failed when run: ${problem}`)
    failed++
  }
}
const where = relative(root, work)
console.log(
  `doc-test: ${blocks.length} ts blocks type-checked, ${runnable.length} run (${where}); ${failed} problem${failed === 1 ? '' : 's'}`,
)
process.exitCode = failed === 0 ? 0 : 1
