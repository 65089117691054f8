// A missing engine fails with VoiceError("engine-missing") saying what to install.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { distDir, loadVoice } from './helpers.js'

// Worker threads copy the environment when they start, so this applies to this file's pool.
process.env.ESPEAK_NG_PATH = '/nonexistent/espeak-ng'
const { VoiceSystem, voicePool } = await loadVoice()
const scratch = mkdtempSync(join(tmpdir(), 'voice-missing-'))

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('missing engines', () => {
  it('engine "espeak-ng" without the binary says to install it', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it' })
    const error = await voice.synthesize('ciao').catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'VoiceError', code: 'engine-missing' })
    expect((error as Error).message).toMatch(/apt-get install espeak-ng/)
    // The failed load is retried, not cached: the next call gives the same clear error.
    await expect(voice.synthesize('ciao')).rejects.toMatchObject({ code: 'engine-missing' })
  })

  it('a custom engine module that does not exist names the path', async () => {
    const voice = new VoiceSystem({ engine: join(scratch, 'nope.mjs'), language: 'it' })
    await expect(voice.synthesize('ciao')).rejects.toMatchObject({ code: 'engine-missing' })
  })

  it('the default engine without either optional GPL package says which package to install', () => {
    // An install of the package with its dependencies but without the optional peer.
    const app = join(scratch, 'app')
    const pkg = join(app, 'node_modules', '@taurobot', 'voice')
    mkdirSync(pkg, { recursive: true })
    cpSync(distDir, join(pkg, 'dist'), { recursive: true })
    cpSync(join(distDir, '..', 'package.json'), join(pkg, 'package.json'))
    for (const dependency of ['piscina', 'opusscript']) {
      const target = realpathSync(join(distDir, '..', 'node_modules', dependency))
      symlinkSync(target, join(app, 'node_modules', dependency))
    }
    writeFileSync(
      join(app, 'main.mjs'),
      `import { VoiceSystem } from '@taurobot/voice'
const error = await new VoiceSystem({ language: 'it' }).synthesize('ciao').catch((e) => e)
console.log(JSON.stringify({ code: error.code, message: error.message }))`,
    )
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' })) as {
      code: string
      message: string
    }
    expect(out.code).toBe('engine-missing')
    expect(out.message).toContain('npm install @taurobot/espeak-ng-wasm')
    expect(out.message).toContain('GPL-3.0-or-later')
  })

  it('an installed WebAssembly build that fails to load is an error, not a silent fall back', () => {
    // An install with both engine packages, where @taurobot/espeak-ng-wasm lost its .wasm file.
    const app = join(scratch, 'broken')
    const pkg = join(app, 'node_modules', '@taurobot', 'voice')
    mkdirSync(pkg, { recursive: true })
    cpSync(distDir, join(pkg, 'dist'), { recursive: true })
    cpSync(join(distDir, '..', 'package.json'), join(pkg, 'package.json'))
    mkdirSync(join(app, 'node_modules', '@echogarden'))
    for (const dependency of ['piscina', 'opusscript', '@echogarden/espeak-ng-emscripten']) {
      const target = realpathSync(join(distDir, '..', 'node_modules', dependency))
      symlinkSync(target, join(app, 'node_modules', dependency))
    }
    const wasmPackage = realpathSync(join(distDir, '..', 'node_modules', '@taurobot', 'espeak-ng-wasm'))
    const broken = join(app, 'node_modules', '@taurobot', 'espeak-ng-wasm')
    mkdirSync(join(broken, 'dist'), { recursive: true })
    cpSync(join(wasmPackage, 'package.json'), join(broken, 'package.json'))
    for (const file of ['index.js', 'espeak-ng.mjs'])
      cpSync(join(wasmPackage, 'dist', file), join(broken, 'dist', file))
    symlinkSync(join(wasmPackage, 'dist', 'espeak-ng-data'), join(broken, 'dist', 'espeak-ng-data'))
    writeFileSync(
      join(app, 'main.mjs'),
      `import { VoiceSystem } from '@taurobot/voice'
const result = await new VoiceSystem({ language: 'it' }).synthesize('ciao').then(
  (audio) => ({ bytes: audio.data.length }),
  (error) => ({ code: error.code, message: error.message }),
)
console.log(JSON.stringify(result))`,
    )
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' })) as {
      code?: string
      message?: string
      bytes?: number
    }
    expect(out.bytes, 'fell back to the wasm2js build').toBeUndefined()
    expect(out.code).toBe('engine-failed')
    expect(out.message).toContain('espeak-ng.wasm')
  })
})
