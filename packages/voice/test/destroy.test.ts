import { channel, tracingChannel } from 'node:diagnostics_channel'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 1 })
const voice = new VoiceSystem({ engine: join(fixturesDir, 'fault-engine.mjs'), language: 'xx' })

// Everything the pool and its tasks publish in this file, for the second test.
const seenPool: Array<{ event: string }> = []
channel('taurobot:voice:pool').subscribe((message) => {
  seenPool.push(message as { event: string })
})
const seenTasks: Array<Record<string, unknown>> = []
tracingChannel('taurobot:voice:task').asyncEnd.subscribe((message) => {
  seenTasks.push({ ...(message as Record<string, unknown>) })
})

describe('destroying the shared pool', () => {
  it('rejects running and queued tasks with VoiceError("pool-closed") and stops the threads now', async () => {
    await voice.synthesize('fine')
    const running = voice.synthesize('stuck:20000').catch((e: unknown) => e)
    const queued = voice.synthesize('fine').catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await voicePool.destroy()
    expect(await running).toMatchObject({ name: 'VoiceError', code: 'pool-closed' })
    expect(await queued).toMatchObject({ name: 'VoiceError', code: 'pool-closed' })
    expect(voicePool.stats()).toMatchObject({ threads: 0, running: 0, queued: 0, closed: true })
    await expect(voice.synthesize('fine')).rejects.toMatchObject({ code: 'pool-closed' })
  })

  it('is reported on taurobot:voice:pool, and the threads it stops are not counted as replaced', async () => {
    // A fresh process is not available here: the pool above is destroyed, so this observes a
    // second destroy() of the same pool (nothing to report) and the record of the first one below.
    expect(seenPool).toContainEqual({ event: 'closed', by: 'destroy' })
    expect(seenPool.filter((m) => m.event === 'thread-replaced')).toEqual([])
    expect(seenTasks).toContainEqual(
      expect.objectContaining({ outcome: 'cancelled', errorCode: 'pool-closed' }),
    )
    const before = seenPool.length
    await voicePool.destroy()
    expect(seenPool.length).toBe(before)
  })
})
