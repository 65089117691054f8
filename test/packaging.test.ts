// Installs the packed tarballs (not workspace links) into a scratch project and loads every
// package from ESM and from CommonJS, the way a user's project would.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const packages = [
  { dir: 'memory', name: '@taurobot/memory', errorClass: 'MemoryError' },
  { dir: 'voice', name: '@taurobot/voice', errorClass: 'VoiceError' },
  { dir: 'sw-cache', name: '@taurobot/sw-cache', errorClass: 'SwCacheError' },
] as const

let scratch = ''

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: scratch, encoding: 'utf8' })
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'taurobot-consumer-'))
  const tarballs = join(scratch, 'tarballs')
  mkdirSync(tarballs)
  for (const { dir } of packages) {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballs], {
      cwd: join(root, 'packages', dir),
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  const files = readdirSync(tarballs).map((file) => join(tarballs, file))
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...files], {
    cwd: scratch,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
})

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe.each(packages)('$name from packed tarball', ({ name, errorClass }) => {
  it('loads with import() from ESM and exposes the same names as require()', () => {
    const esm = JSON.parse(
      node([
        '--input-type=module',
        '-e',
        `console.log(JSON.stringify(Object.keys(await import('${name}')).sort()))`,
      ]),
    ) as string[]
    const cjs = JSON.parse(
      node(['-e', `console.log(JSON.stringify(Object.keys(require('${name}')).sort()))`]),
    ) as string[]
    expect(esm).toContain(errorClass)
    expect(cjs).toEqual(esm.filter((key) => key !== 'default'))
  })

  it('gives CommonJS callers a working error class', () => {
    const out = node([
      '-e',
      `const m = require('${name}'); const e = new m.${errorClass}('io', 'x'); console.log(e instanceof Error, e.name, e.message)`,
    ])
    expect(out.trim()).toBe(`true ${errorClass} [${name}] x`)
  })
})

describe('@taurobot/memory subpaths and bin from packed tarball', () => {
  it('loads @taurobot/memory/redis from ESM and CommonJS', () => {
    const esm = node([
      '--input-type=module',
      '-e',
      `const m = await import('@taurobot/memory/redis'); console.log(typeof m.redisBackend)`,
    ])
    const cjs = node(['-e', `console.log(typeof require('@taurobot/memory/redis').redisBackend)`])
    expect(esm.trim()).toBe('function')
    expect(cjs.trim()).toBe('function')
  })

  it('stores and reads back a conversation from CommonJS, in a file the ESM build then reads', () => {
    const file = join(scratch, 'data', 'conversations.json')
    node([
      '-e',
      `const { openMemory } = require('@taurobot/memory');
       (async () => {
         const memory = await openMemory({ path: ${JSON.stringify(file)} })
         await memory.add(42, { role: 'user', content: 'Ciao!' })
         await memory.close()
       })()`,
    ])
    const out = node([
      '--input-type=module',
      '-e',
      `const { openMemory } = await import('@taurobot/memory')
       const memory = await openMemory({ path: ${JSON.stringify(file)} })
       console.log(await memory.context(42))
       await memory.close()`,
    ])
    expect(out.trim()).toBe('user: Ciao!')
  })

  it.each([
    [
      'ESM',
      ['--input-type=module', '-e'],
      "const { fileBackend, openMemory } = await import('@taurobot/memory'); const { existsSync } = await import('node:fs');",
    ],
    [
      'CommonJS',
      ['-e'],
      "const { fileBackend, openMemory } = require('@taurobot/memory'); const { existsSync } = require('node:fs');",
    ],
  ])('finds the compaction worker next to the %s build', (_, flags, load) => {
    const file = join(scratch, `worker-${flags.length}`, 'conversations.json')
    // The compaction is handed to the worker, then this thread never yields: only another thread
    // can write the snapshot.
    const out = node([
      ...flags,
      `${load}
       (async () => {
         const memory = await openMemory({ backend: fileBackend({ path: ${JSON.stringify(file)}, compactionMinBytes: 0 }), saveEvery: 1 })
         await memory.add(42, { role: 'user', content: 'Ciao!' })
         await memory.flush()
         await new Promise((resolve) => setImmediate(resolve))
         const until = Date.now() + 5000
         while (!existsSync(${JSON.stringify(file)}) && Date.now() < until) {}
         console.log(existsSync(${JSON.stringify(file)}) ? 'worker' : 'main thread')
         await memory.close()
       })()`,
    ])
    expect(out.trim()).toBe('worker')
  })

  it('installs the taurobot-memory command', () => {
    const bin = join(scratch, 'node_modules', '.bin', 'taurobot-memory')
    const out = execFileSync(bin, ['--help'], { cwd: scratch, encoding: 'utf8' })
    expect(out).toMatch(/migrate/)
  })
})
