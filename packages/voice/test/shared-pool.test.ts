import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type * as VoiceModule from '../src/index.js'
import { distDir, fixturesDir, loadVoice } from './helpers.js'

const esm = await loadVoice()
const cjs = createRequire(import.meta.url)(join(distDir, 'index.cjs')) as typeof VoiceModule
const engine = join(fixturesDir, 'fault-engine.mjs')

afterAll(async () => {
  await esm.voicePool.close()
})

function osThreads(): number | undefined {
  try {
    return readdirSync('/proc/self/task').length
  } catch {
    return undefined
  }
}

const sentences = ['Buongiorno, come posso aiutarti oggi?', 'Grazie per il tuo messaggio.']

describe('one pool per process', () => {
  it('is shared by the ESM and the CommonJS copy of the package, errors included', async () => {
    const before = esm.voicePool.stats().completed
    await Promise.all([
      new esm.VoiceSystem({ engine, language: 'xx' }).synthesize('fine'),
      new cjs.VoiceSystem({ engine, language: 'xx' }).synthesize('fine'),
    ])
    expect(esm.voicePool.stats().completed).toBe(before + 2)
    expect(cjs.voicePool.stats().completed).toBe(before + 2)
    const error = await new cjs.VoiceSystem({ engine, language: 'xx' })
      .synthesize('throw')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(esm.VoiceError)
    expect(esm.isVoiceError(error, 'engine-failed')).toBe(true)
  })

  it('keeps the thread count fixed with 20 VoiceSystem instances speaking at once', async () => {
    const maxThreads = esm.voicePool.stats().maxThreads
    expect(maxThreads).toBe(availableParallelism())
    const threadsBefore = osThreads()
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, esm.voicePool.stats().threads)
    }, 5)
    const voices = Array.from({ length: 20 }, () => new esm.VoiceSystem({ language: 'it', rate: 160 }))
    try {
      const audio = await Promise.all(
        voices.flatMap((voice, i) =>
          sentences.map((s) => voice.synthesize(s, { format: i % 2 ? 'wav' : 'ogg' })),
        ),
      )
      expect(audio).toHaveLength(40)
      for (const a of audio) expect(a.durationMs).toBeGreaterThan(500)
    } finally {
      clearInterval(sampler)
    }
    peak = Math.max(peak, esm.voicePool.stats().threads)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(maxThreads)
    const threadsAfter = osThreads()
    if (threadsBefore !== undefined && threadsAfter !== undefined) {
      // Each worker is one OS thread; 20 per-instance pools would add dozens. libuv starts its
      // own pool of 4 threads lazily on the first file-system call (Node 22 does so here), which
      // is the process's, not ours.
      expect(threadsAfter - threadsBefore).toBeLessThanOrEqual(maxThreads + 4)
    }
  })

  it('adds no process listeners over many calls, failures and cancellations included', async () => {
    const snapshot = () =>
      Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]))
    const before = snapshot()
    const voice = new esm.VoiceSystem({ engine, language: 'xx' })
    for (let round = 0; round < 10; round++) {
      const controller = new AbortController()
      const calls = [
        voice.synthesize('fine'),
        voice.synthesize('fine', { format: 'wav', timeoutMs: 10_000 }),
        voice.synthesize('throw'),
        voice.synthesize('slow:5000', { signal: controller.signal }),
        voice.synthesize('', {}),
      ]
      controller.abort()
      await Promise.allSettled(calls)
    }
    expect(snapshot()).toEqual(before)
  })
})
