import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, VoiceError, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 2 })
const engine = join(fixturesDir, 'fault-engine.mjs')
const scratch = mkdtempSync(join(tmpdir(), 'voice-close-'))

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

describe('closing the shared pool', () => {
  it('a VoiceSystem disposes by waiting for its own calls; the pool stays open', async () => {
    const voice = new VoiceSystem({ engine, language: 'xx' })
    let done = false
    void voice.synthesize('slow:200').then(() => {
      done = true
    })
    await voice[Symbol.asyncDispose]()
    expect(done).toBe(true)
    expect(voicePool.closed).toBe(false)
  })

  it('close() lets every accepted task, running or queued, settle with its real result', async () => {
    const voice = new VoiceSystem({ engine, language: 'xx' })
    const accepted = [
      voice.synthesize('slow:300', { format: 'wav' }),
      voice.synthesize('slow:300', { format: 'wav' }),
      ...Array.from({ length: 6 }, () => voice.synthesize('fine')),
      voice.textToSpeech('fine', join(scratch, 'last', 'reply.ogg')),
    ]
    await new Promise((resolve) => setImmediate(resolve))
    expect(voicePool.stats().queued).toBeGreaterThan(0)
    // Symbol.asyncDispose is close(): `await using` on the pool drains it the same way.
    const closing = voicePool[Symbol.asyncDispose]()
    expect(voicePool.close()).toBe(voicePool.close())
    const results = await Promise.allSettled(accepted)
    for (const result of results) expect(result.status).toBe('fulfilled')
    await closing
    expect(existsSync(join(scratch, 'last', 'reply.ogg'))).toBe(true)
    const stats = voicePool.stats()
    expect(stats).toMatchObject({ threads: 0, running: 0, queued: 0, closed: true })
    expect(stats.completed).toBeGreaterThanOrEqual(9)
  })

  it('after close(), calls reject with VoiceError("pool-closed") instead of re-spawning threads', async () => {
    const voice = new VoiceSystem({ engine, language: 'xx' })
    const error = await voice.synthesize('fine').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(VoiceError)
    expect((error as InstanceType<typeof VoiceError>).code).toBe('pool-closed')
    // Refused at the door, it is a failed task, as a full queue's is (and as the metrics count it).
    const failed = voicePool.stats().failed
    await voice.synthesize('again').catch(() => undefined)
    expect(voicePool.stats().failed).toBe(failed + 1)
    await expect(voice.warmup()).rejects.toThrow(/pool is closed/)
    expect(voicePool.stats().threads).toBe(0)
  })
})
