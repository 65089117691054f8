// Packs every package the way a release publishes it (`pnpm publish` packs with pnpm, which differs
// from npm: it adds the workspace root's LICENSE to a package that has none of its own), checks what
// each tarball carries, then installs the tarballs (not workspace links) into a scratch project and
// loads every package from ESM and from CommonJS, the way a user's project would.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const packages = [
  { dir: 'memory', name: '@taurobot/memory', errorClass: 'MemoryError' },
  { dir: 'voice', name: '@taurobot/voice', errorClass: 'VoiceError' },
  { dir: 'sw-cache', name: '@taurobot/sw-cache', errorClass: 'SwCacheError' },
] as const
// ESM-only and GPL-3.0-or-later: installed next to @taurobot/voice as its optional engine package.
const espeakPackage = { dir: 'espeak-ng-wasm', name: '@taurobot/espeak-ng-wasm' } as const
// The wasm2js build that @taurobot/voice falls back to; it must not be in the scratch project.
const fallbackPackage = '@echogarden/espeak-ng-emscripten'

let scratch = ''
/** Each package's packed tarball, by its directory under packages/. */
const tarballs = new Map<string, string>()

// pnpm's bin shims put the workspace's hoisted node_modules on NODE_PATH, where require() would
// find packages the scratch project never installed; a user's project has no such path.
const { NODE_PATH: _workspacePath, ...userEnv } = process.env

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: scratch, encoding: 'utf8', env: userEnv })
}

function nodeResult(args: string[]): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, args, { cwd: scratch, encoding: 'utf8', env: userEnv })
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'taurobot-consumer-'))
  // The pnpm the repository pins (`packageManager`), the one releases are published with.
  const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    packageManager: string
  }
  for (const { dir } of [...packages, espeakPackage]) {
    const destination = join(scratch, 'tarballs', dir)
    mkdirSync(destination, { recursive: true })
    execFileSync('npx', ['-y', packageManager, 'pack', '--pack-destination', destination], {
      cwd: join(root, 'packages', dir),
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const [file] = readdirSync(destination)
    tarballs.set(dir, join(destination, file as string))
  }
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  // The one optional peer that an entry of @taurobot/memory loads at run time (./langchain), at the
  // version its tests use; the peers of ./ai-sdk and ./grammy are types only and stay absent.
  const { devDependencies } = JSON.parse(
    readFileSync(join(root, 'packages', 'memory', 'package.json'), 'utf8'),
  ) as { devDependencies: Record<string, string> }
  const langchain = `@langchain/core@${devDependencies['@langchain/core']}`
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs.values(), langchain],
    {
      cwd: scratch,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
})

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

/** How each licence a package.json may name begins, as its licence file must. */
const licenceTexts: Record<string, RegExp> = {
  MIT: /^MIT License\n/,
  'GPL-3.0-or-later': /^\s*GNU GENERAL PUBLIC LICENSE\s+Version 3, 29 June 2007\n/,
}
/**
 * Licences of data bundled into a package's build, whose notice the built files carry instead of a
 * licence file of their own: the CLDR emoji names of @taurobot/voice.
 */
const bundledNotices: Record<string, { files: string[]; notice: RegExp }> = {
  'Unicode-3.0': {
    files: ['package/dist/index.js', 'package/dist/index.cjs'],
    notice:
      /UNICODE LICENSE V3[\s\S]*Copyright © \d{4}-\d{4} Unicode, Inc\.[\s\S]*Permission is hereby granted/,
  },
}

describe.each([...packages, espeakPackage])('$name tarball', ({ dir }) => {
  const tar = (...args: string[]) =>
    execFileSync('tar', [...args, '-f', tarballs.get(dir) as string], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    })

  it('carries exactly one licence file, holding the licence its package.json names', () => {
    const entries = tar('-t', '-z').split('\n')
    const licenceFiles = entries.filter((entry) => /^package\/(licen[cs]e|copying)([.-][^/]*)?$/i.test(entry))
    expect(licenceFiles).toEqual(['package/LICENSE'])
    const { license } = JSON.parse(tar('-x', '-z', '-O', 'package/package.json')) as { license: string }
    // One licence, or (an SPDX "AND" expression) the package's own and those of data it bundles.
    const [own, ...bundled] = license.split(' AND ')
    expect(Object.keys(licenceTexts)).toContain(own)
    expect(tar('-x', '-z', '-O', 'package/LICENSE')).toMatch(licenceTexts[own as string] as RegExp)
    for (const id of bundled) {
      expect(Object.keys(bundledNotices)).toContain(id)
      const { files, notice } = bundledNotices[id] as { files: string[]; notice: RegExp }
      for (const file of files) expect(tar('-x', '-z', '-O', file), `${id} notice in ${file}`).toMatch(notice)
    }
    // And the other way: a build that carries bundled data's notice names its licence.
    for (const [id, { files, notice }] of Object.entries(bundledNotices)) {
      const carried = files.some((file) => entries.includes(file) && notice.test(tar('-x', '-z', '-O', file)))
      if (carried) expect(bundled, `${id} in "license" of package.json`).toContain(id)
    }
  })
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

  it('loads @taurobot/memory/sqlite from ESM and CommonJS', () => {
    const esm = node([
      '--input-type=module',
      '-e',
      `const m = await import('@taurobot/memory/sqlite'); console.log(typeof m.sqliteBackend)`,
    ])
    const cjs = node(['-e', `console.log(typeof require('@taurobot/memory/sqlite').sqliteBackend)`])
    expect(esm.trim()).toBe('function')
    expect(cjs.trim()).toBe('function')
  })

  it('loads @taurobot/memory/metrics from ESM and CommonJS; without prom-client it says what to install', () => {
    // The scratch project has no prom-client (an optional peer): the entry loads, registering fails.
    const register = `try { m.registerMemoryMetrics() } catch (e) { console.log(typeof m.registerMemoryMetrics, e.name, e.code, e.message.includes('npm install prom-client@15')) }`
    const esm = node([
      '--input-type=module',
      '-e',
      `const m = await import('@taurobot/memory/metrics'); ${register}`,
    ])
    const cjs = node(['-e', `const m = require('@taurobot/memory/metrics'); ${register}`])
    expect(esm.trim()).toBe('function MemoryError metrics-unavailable true')
    expect(cjs.trim()).toBe('function MemoryError metrics-unavailable true')
  })

  it.each([
    ['ai-sdk', 'createChatStore'],
    ['grammy', 'createSessionStorage'],
    ['langchain', 'MemoryChatMessageHistory'],
  ])('loads @taurobot/memory/%s from ESM and CommonJS', (entry, name) => {
    const esm = node([
      '--input-type=module',
      '-e',
      `const m = await import('@taurobot/memory/${entry}'); console.log(typeof m.${name})`,
    ])
    const cjs = node(['-e', `console.log(typeof require('@taurobot/memory/${entry}').${name})`])
    expect(esm.trim()).toBe('function')
    expect(cjs.trim()).toBe('function')
  })

  it('keeps an AI SDK chat and a grammY session without the ai and grammy packages installed', () => {
    for (const peer of ['ai', 'grammy']) expect(existsSync(join(scratch, 'node_modules', peer))).toBe(false)
    const run = `;(async () => {
         const memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
         const chats = createChatStore(memory)
         const messages = [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Ciao!' }] }]
         await chats.saveChat({ chatId: 1, messages })
         const storage = createSessionStorage(memory)
         await storage.write('1', { count: 1 })
         console.log(JSON.stringify([await chats.loadChat(1), await storage.read('1')]))
         await memory.close()
       })()`
    const expected = [[{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Ciao!' }] }], { count: 1 }]
    const cjs = node([
      '-e',
      `const { openMemory, memoryBackend } = require('@taurobot/memory')
       const { createChatStore } = require('@taurobot/memory/ai-sdk')
       const { createSessionStorage } = require('@taurobot/memory/grammy')
       ${run}`,
    ])
    expect(JSON.parse(cjs)).toEqual(expected)
    const esm = node([
      '--input-type=module',
      '-e',
      `const { openMemory, memoryBackend } = await import('@taurobot/memory')
       const { createChatStore } = await import('@taurobot/memory/ai-sdk')
       const { createSessionStorage } = await import('@taurobot/memory/grammy')
       ${run}`,
    ])
    expect(JSON.parse(esm)).toEqual(expected)
  })

  it('keeps a LangChain history from CommonJS, read back as LangChain messages from ESM', () => {
    const file = join(scratch, 'langchain', 'conversations.json')
    node([
      '-e',
      `const { openMemory } = require('@taurobot/memory')
       const { MemoryChatMessageHistory } = require('@taurobot/memory/langchain')
       ;(async () => {
         const memory = await openMemory({ path: ${JSON.stringify(file)}, flushOnExit: false })
         const history = new MemoryChatMessageHistory({ memory, conversationId: 's' })
         await history.addUserMessage('Ciao!')
         await history.addAIMessage('Ciao, dimmi.')
         await memory.close()
       })()`,
    ])
    const out = node([
      '--input-type=module',
      '-e',
      `const { openMemory } = await import('@taurobot/memory')
       const { MemoryChatMessageHistory } = await import('@taurobot/memory/langchain')
       const memory = await openMemory({ path: ${JSON.stringify(file)}, flushOnExit: false })
       const messages = await new MemoryChatMessageHistory({ memory, conversationId: 's' }).getMessages()
       console.log(messages.map((m) => m.getType() + ': ' + m.text).join(' | '))
       await memory.close()`,
    ])
    expect(out.trim()).toBe('human: Ciao! | ai: Ciao, dimmi.')
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
    const out = execFileSync(bin, ['--help'], { cwd: scratch, encoding: 'utf8', env: userEnv })
    expect(out).toMatch(/migrate/)
  })
})

describe('@taurobot/voice/metrics from packed tarball, without its optional peer prom-client', () => {
  // The scratch project installs no prom-client: the subpath must still load, and only
  // registerVoiceMetrics() says what to install.
  const attempt = `try { m.registerVoiceMetrics(); console.log('registered') }
    catch (e) { console.log(e.name, e.code, /npm install prom-client/.test(e.message)) }`

  it.each([
    ['ESM', ['--input-type=module', '-e', `const m = await import('@taurobot/voice/metrics')\n${attempt}`]],
    ['CommonJS', ['-e', `const m = require('@taurobot/voice/metrics')\n${attempt}`]],
  ])('loads from %s and refuses with VoiceError("metrics-unavailable")', (_, args) => {
    expect(existsSync(join(scratch, 'node_modules', 'prom-client'))).toBe(false)
    expect(node(args).trim()).toBe('VoiceError metrics-unavailable true')
  })
})

describe('@taurobot/voice speaking through the packed @taurobot/espeak-ng-wasm', () => {
  // Speech from the default engine can only come from the WebAssembly build when the wasm2js
  // package it would fall back to is absent.
  function expectNoFallbackInstalled(): void {
    expect(existsSync(join(scratch, 'node_modules', fallbackPackage))).toBe(false)
    const resolved = nodeResult(['-e', `require.resolve('${fallbackPackage}/package.json')`])
    expect(resolved.status).not.toBe(0)
    expect(resolved.stderr).toContain('MODULE_NOT_FOUND')
  }

  it(`installs without ${fallbackPackage}`, () => {
    expectNoFallbackInstalled()
    expect(existsSync(join(scratch, 'node_modules', espeakPackage.name, 'package.json'))).toBe(true)
  })

  // About two seconds of Italian speech.
  const sentence = 'Buongiorno, come stai oggi?'
  const speak = `const { VoiceSystem, voicePool } = voice
    const audio = await new VoiceSystem({ language: 'it' }).synthesize(${JSON.stringify(sentence)})
    const data = Buffer.from(audio.data)
    console.log(JSON.stringify({
      capture: data.toString('latin1', 0, 4),
      head: data.toString('latin1', 28, 36),
      mimeType: audio.mimeType,
      durationMs: audio.durationMs,
    }))
    await voicePool.close()`

  it.each([
    ['ESM', ['--input-type=module', '-e', `const voice = await import('@taurobot/voice')\n${speak}`]],
    ['CommonJS', ['-e', `const voice = require('@taurobot/voice');\n(async () => {\n${speak}\n})()`]],
  ])('synthesizes Italian Ogg/Opus from %s', (_, args) => {
    expectNoFallbackInstalled()
    const audio = JSON.parse(node(args)) as {
      capture: string
      head: string
      mimeType: string
      durationMs: number
    }
    expect(audio.capture).toBe('OggS')
    expect(audio.head).toBe('OpusHead')
    expect(audio.mimeType).toBe('audio/ogg')
    expect(audio.durationMs).toBeGreaterThan(1000)
    expect(audio.durationMs).toBeLessThan(4000)
  })

  it('loads @taurobot/espeak-ng-wasm from ESM and speaks with its packed data files', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const { loadEspeakNg } = await import('${espeakPackage.name}')
       const espeak = await loadEspeakNg()
       espeak.setVoice('it')
       const { samples, stopped } = espeak.synthesize('ciao')
       console.log(JSON.stringify({ samples: samples.length, stopped, sampleRate: espeak.sampleRate }))`,
    ])
    const result = JSON.parse(out) as { samples: number; stopped: boolean; sampleRate: number }
    expect(result.samples).toBeGreaterThan(0)
    expect(result.stopped).toBe(false)
    expect(result.sampleRate).toBe(22050)
  })

  // The package is ESM-only. Node 20.19 and later (the engines range) load it through require()
  // by default; this notices if that ever changes, and checks the error Node gives without it.
  it('gives require() the ESM namespace, or ERR_REQUIRE_ESM when Node cannot require ESM', () => {
    const same = node([
      '-e',
      `const m = require('${espeakPackage.name}')
       import('${espeakPackage.name}').then((n) => console.log(n === m, typeof m.loadEspeakNg))`,
    ])
    expect(same.trim()).toBe('true function')

    const refused = nodeResult(['--no-experimental-require-module', '-e', `require('${espeakPackage.name}')`])
    expect(refused.status).not.toBe(0)
    expect(refused.stderr).toContain('ERR_REQUIRE_ESM')
    expect(refused.stderr).toContain('dynamic import()')
  })
})
