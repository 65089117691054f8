#!/usr/bin/env node
// Writes dist/espeak-ng-data/ (every language and voice variant) from the espeak-ng 1.52 data that
// @echogarden/espeak-ng-emscripten ships as one blob: espeak-ng.data holds the bytes, and
// espeak-ng.js holds the index as {filename:"/usr/share/espeak-ng-data/…",start:…,end:…} entries.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const sourcePackage = '@echogarden/espeak-ng-emscripten'
const indexPrefix = '/usr/share/espeak-ng-data/'
// Without these espeak-ng cannot start; their absence means the index was misread.
const requiredFiles = [
  'phontab',
  'phonindex',
  'phondata',
  'intonations',
  'it_dict',
  'lang/roa/it',
  'voices/!v/Marco',
]

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(packageDir, 'dist', 'espeak-ng-data')

function fail(message) {
  console.error(`[@taurobot/espeak-ng-wasm] cannot extract espeak-ng-data: ${message}`)
  process.exit(1)
}

let sourceDir
try {
  sourceDir = dirname(
    createRequire(join(packageDir, 'package.json')).resolve(`${sourcePackage}/package.json`),
  )
} catch {
  fail(`${sourcePackage} is not installed. It is a devDependency: run \`pnpm install\` first.`)
}

const loader = readFileSync(join(sourceDir, 'espeak-ng.js'), 'utf8')
const data = readFileSync(join(sourceDir, 'espeak-ng.data'))

const entries = []
for (const match of loader.matchAll(/\{filename:"([^"]+)",start:(\d+),end:(\d+)\}/g)) {
  const [, filename, start, end] = match
  entries.push({ filename, start: Number(start), end: Number(end) })
}
if (entries.length === 0) {
  fail(
    `no file index found in ${sourcePackage}/espeak-ng.js; its format changed. Pin the version this script expects (0.3.5).`,
  )
}

// The files must tile the blob exactly: no gap, no overlap, nothing left over.
let expectedStart = 0
for (const { filename, start, end } of entries) {
  if (!filename.startsWith(indexPrefix))
    fail(`unexpected path "${filename}" in the index (expected under ${indexPrefix}).`)
  if (start !== expectedStart || end < start) {
    fail(
      `"${filename}" spans ${start}..${end}, expected to start at ${expectedStart}; the index does not match espeak-ng.data.`,
    )
  }
  expectedStart = end
}
if (expectedStart !== data.length) {
  fail(
    `the index covers ${expectedStart} bytes but espeak-ng.data has ${data.length}; reinstall ${sourcePackage}.`,
  )
}
const names = new Set(entries.map((entry) => entry.filename.slice(indexPrefix.length)))
const missing = requiredFiles.filter((name) => !names.has(name))
if (missing.length > 0) fail(`the index lacks ${missing.join(', ')}; it is not a complete espeak-ng-data.`)

rmSync(outDir, { recursive: true, force: true })
for (const { filename, start, end } of entries) {
  const relative = normalize(filename.slice(indexPrefix.length))
  if (relative.startsWith('..') || relative.startsWith(sep)) fail(`"${filename}" leaves the data directory.`)
  const target = join(outDir, relative)
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, data.subarray(start, end))
}
console.log(`espeak-ng-data: ${entries.length} files, ${data.length} bytes -> dist/espeak-ng-data`)
