// A custom engine's result is checked before it is encoded, the same way for WAV and Ogg: a result
// outside the engine contract fails the task with VoiceError("engine-failed") naming the field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const scratch = mkdtempSync(join(tmpdir(), 'voice-engine-output-'))
// An engine without init(): the method is optional.
const engine = join(fixturesDir, 'bad-output-engine.mjs')
const voice = new VoiceSystem({ engine, language: 'xx' })

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('the result of a custom engine', () => {
  it('an engine without init() speaks', async () => {
    await expect(voice.synthesize('fine', { format: 'wav' })).resolves.toMatchObject({ durationMs: 100 })
    await expect(voice.synthesize('fine')).resolves.toMatchObject({ format: 'ogg', durationMs: 100 })
  })

  describe.each(['wav', 'ogg'] as const)('as %s', (format) => {
    it.each([
      ['rate-negative', 'sampleRate', 'sampleRate must be a positive whole number', 'got -5 (number)'],
      ['rate-string', 'sampleRate', 'sampleRate must be a positive whole number', 'got "x" (string)'],
      ['array', 'samples', 'samples must be an Int16Array', 'got an Array'],
      [
        'float32',
        'samples',
        'samples must be an Int16Array of mono 16-bit PCM (scale float',
        'got Float32Array',
      ],
      ['nothing', 'result', 'synthesize() must resolve with an object', 'got undefined'],
    ])('%s is VoiceError("engine-failed") naming %s', async (text, field, expected, got) => {
      const error = await voice.synthesize(text, { format }).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'VoiceError', code: 'engine-failed', details: { engine, field } })
      const message = (error as Error).message
      expect(message).toContain(`the "${engine}" engine returned an invalid result: ${expected}`)
      expect(message).toContain(got)
    })
  })

  it('the engine stays loaded after a bad result: the next task speaks', async () => {
    await expect(voice.synthesize('rate-negative', { format: 'wav' })).rejects.toMatchObject({
      code: 'engine-failed',
    })
    await expect(voice.synthesize('fine', { format: 'wav' })).resolves.toMatchObject({ durationMs: 100 })
  })

  it.each([
    ['{ init() {} }', 'an object without a synthesize() method'],
    ['Promise.resolve({ synthesize() {} })', 'a Promise (prepare asynchronously in init() instead)'],
    ['undefined', 'undefined instead of an engine object'],
    ['{ init: 1, synthesize() {} }', 'an object whose init is number, not a method'],
  ])(
    'createEngine() returning %s is VoiceError("engine-missing") saying what is wrong',
    async (made, says) => {
      const path = join(scratch, `engine-${Math.random().toString(36).slice(2)}.mjs`)
      writeFileSync(path, `export function createEngine() { return ${made} }\n`)
      const error = await new VoiceSystem({ engine: path, language: 'xx' })
        .synthesize('fine', { format: 'wav' })
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'VoiceError', code: 'engine-missing', details: { engine: path } })
      expect((error as Error).message).toContain(
        `createEngine() of the engine module "${path}" returned ${says}.`,
      )
    },
  )
})
