import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { distDir, fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const voice = new VoiceSystem({ engine: join(fixturesDir, 'fault-engine.mjs'), language: 'xx' })

afterAll(async () => {
  await voicePool.close()
})

describe('workerPath', () => {
  it.each(['rel.js', './dist/worker.js', '../worker.cjs'])(
    'a relative %s is a RangeError from configure(), not a missing worker at the first task',
    (workerPath) => {
      expect(() => voicePool.configure({ workerPath })).toThrow(
        new RangeError(
          "workerPath must be an absolute path or a complete file: URL (e.g. path.resolve('dist/worker.js') " +
            `or new URL('./worker.js', import.meta.url)), got "${workerPath}"`,
        ),
      )
    },
  )

  it('a missing worker module is a VoiceError("worker-missing") naming the path', async () => {
    const missing = join(distDir, 'no-such-worker.js')
    voicePool.configure({ workerPath: missing })
    const error = await voice.synthesize('fine').catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'VoiceError',
      code: 'worker-missing',
      details: { workerPath: missing },
    })
    expect((error as Error).message).toContain(missing)
    expect(voicePool.stats().threads).toBe(0)
  })

  it('accepts a file: URL, and can still be set because no thread started', async () => {
    expect(() => voicePool.configure({ workerPath: 42 as never })).toThrow(
      'workerPath must be a path or a file: URL, got 42',
    )
    voicePool.configure({ workerPath: pathToFileURL(join(distDir, 'worker.cjs')) })
    await expect(voice.synthesize('fine')).resolves.toMatchObject({ format: 'ogg' })
  })
})
