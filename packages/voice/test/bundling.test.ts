// A consumer bundles an app that imports @taurobot/voice with esbuild, to ESM and to CommonJS,
// with the package itself inlined in the bundle (not external). Its runtime dependencies stay
// external, as the README says. The bundle must still find the worker and synthesize.
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { distDir } from './helpers.js'

const packageDir = join(distDir, '..')
const external = ['piscina', 'opusscript', '@taurobot/espeak-ng-wasm', '@echogarden/espeak-ng-emscripten']
let app = ''
let elsewhere = ''

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'voice-bundle-'))
  elsewhere = mkdtempSync(join(tmpdir(), 'voice-cwd-'))
  // node_modules as an install would lay it out: the package (dist + package.json) and its deps.
  const installed = join(app, 'node_modules', '@taurobot', 'voice')
  mkdirSync(installed, { recursive: true })
  cpSync(distDir, join(installed, 'dist'), { recursive: true })
  cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'))
  mkdirSync(join(app, 'node_modules', '@echogarden'), { recursive: true })
  for (const dependency of external) {
    symlinkSync(
      realpathSync(join(packageDir, 'node_modules', dependency)),
      join(app, 'node_modules', dependency),
    )
  }
  mkdirSync(join(app, 'src'))
  writeFileSync(
    join(app, 'src', 'main.ts'),
    `import { VoiceSystem, voicePool } from '@taurobot/voice'
const workerPath = process.env.VOICE_WORKER_PATH
if (workerPath) voicePool.configure({ workerPath })
const voice = new VoiceSystem({ language: 'it' })
voice.synthesize('Ciao dal bundle!').then((audio) => {
  const head = new TextDecoder().decode(audio.data.subarray(0, 4))
  console.log(JSON.stringify({ head, bytes: audio.data.length, durationMs: audio.durationMs }))
})
`,
  )
})

afterAll(() => {
  rmSync(app, { recursive: true, force: true })
  rmSync(elsewhere, { recursive: true, force: true })
})

async function bundle(format: 'esm' | 'cjs'): Promise<string> {
  const outfile = join(app, 'out', format === 'esm' ? 'app.mjs' : 'app.cjs')
  await build({
    entryPoints: [join(app, 'src', 'main.ts')],
    absWorkingDir: app,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    outfile,
    external,
    logLevel: 'silent',
  })
  const code = readFileSync(outfile, 'utf8')
  // The package really is inlined: its pool key is in the bundle, not an import of it.
  expect(code).toContain('@taurobot/voice.pool')
  expect(code).not.toMatch(/from ["']@taurobot\/voice["']|require\(["']@taurobot\/voice["']\)/)
  return outfile
}

function run(
  file: string,
  env: Record<string, string> = {},
): { head: string; bytes: number; durationMs: number } {
  // Run from an unrelated directory: the bundle must not depend on the working directory.
  const result = spawnSync(process.execPath, [file], {
    cwd: elsewhere,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  })
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return JSON.parse(result.stdout) as { head: string; bytes: number; durationMs: number }
}

describe('bundled with esbuild, @taurobot/voice inlined, dependencies external', () => {
  it.each(['esm', 'cjs'] as const)(
    'the %s bundle finds the worker and synthesizes Ogg/Opus',
    async (format) => {
      const result = run(await bundle(format))
      expect(result.head).toBe('OggS')
      expect(result.bytes).toBeGreaterThan(1000)
      expect(result.durationMs).toBeGreaterThan(300)
    },
  )

  it('workerPath points a bundle at the worker explicitly', async () => {
    const file = await bundle('esm')
    const workerPath = join(app, 'node_modules', '@taurobot', 'voice', 'dist', 'worker.js')
    expect(run(file, { VOICE_WORKER_PATH: workerPath }).head).toBe('OggS')
  })
})
