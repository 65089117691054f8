import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 1 })
const voice = new VoiceSystem({ engine: join(fixturesDir, 'fault-engine.mjs'), language: 'xx' })

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
})
