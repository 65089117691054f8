// warmup({ allThreads: true }) warms every thread the pool may start, so replies that arrive
// together right after start never meet a thread still loading its engine.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 2 })

afterAll(async () => {
  await voicePool.close()
})

describe('warmup({ allThreads: true })', () => {
  it('rejects a non-boolean allThreads before anything is queued', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    await expect(voice.warmup({ allThreads: 'yes' as unknown as boolean })).rejects.toThrow(
      'allThreads must be a boolean, got "yes"',
    )
    expect(voicePool.stats().threads).toBe(0)
  })

  it('runs the warm-up on every thread, each loading its engine once', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const result = await voice.warmup({ allThreads: true })
    expect(result.threads).toBe(2)
    expect(result.engineInitMs).toBeGreaterThan(0)
    const stats = voicePool.stats()
    expect(stats.threads).toBe(2)
    expect(stats.engineInitMs.count).toBe(2)
    expect(stats.completed).toBe(2)

    // Two replies at once: both threads are already warm, so no engine is loaded again.
    await Promise.all([voice.synthesize('Ciao!'), voice.synthesize('Come stai?')])
    const after = voicePool.stats()
    expect(after.engineInitMs.count).toBe(2)
    expect(after.threads).toBe(2)

    // Warming again reaches both threads, and loads nothing.
    const again = await voice.warmup({ allThreads: true })
    expect(again).toEqual({ engineInitMs: undefined, threads: 2 })
  })

  it('waits for a thread that is busy with a long task, then warms it too', async () => {
    const voice = new VoiceSystem({ engine: join(fixturesDir, 'fault-engine.mjs'), language: 'it' })
    const long = voice.synthesize('slow:800', { format: 'wav' })
    const warmed = await voice.warmup({ allThreads: true })
    expect(warmed.threads).toBe(2)
    await expect(long).resolves.toMatchObject({ format: 'wav' })
  })

  it('cancelling it releases the threads held for the rest of the group', async () => {
    const voice = new VoiceSystem({ engine: join(fixturesDir, 'fault-engine.mjs'), language: 'it' })
    const long = voice.synthesize('slow:5000', { format: 'wav' })
    const controller = new AbortController()
    const warming = voice.warmup({ allThreads: true, signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 300))
    controller.abort(new Error('stop warming'))
    await expect(warming).rejects.toThrow('stop warming')
    // The thread that was waiting for the group is free again for a reply.
    await expect(voice.synthesize('hello', { format: 'wav', timeoutMs: 2000 })).resolves.toMatchObject({
      format: 'wav',
    })
    await expect(long).resolves.toMatchObject({ format: 'wav' })
  })

  it('without allThreads warms one thread', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    expect((await voice.warmup()).threads).toBe(1)
  })
})
