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
})
