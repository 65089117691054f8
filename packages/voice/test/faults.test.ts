// Faults inside real worker threads, injected through a custom engine module (test/fixtures).
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, VoiceError, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 2, maxMemoryMb: 64, cancelGraceMs: 300 })
const engine = join(fixturesDir, 'fault-engine.mjs')
const voice = new VoiceSystem({ engine, language: 'xx-test' })

afterAll(async () => {
  await voicePool.close()
})

async function expectVoiceError(
  promise: Promise<unknown>,
  code: string,
): Promise<InstanceType<typeof VoiceError>> {
  const error = await promise.then(
    () => {
      throw new Error(`expected VoiceError(${code}), got a result`)
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(VoiceError)
  expect((error as InstanceType<typeof VoiceError>).code).toBe(code)
  return error as InstanceType<typeof VoiceError>
}

describe('faults inside a worker reject only their own task', () => {
  it('an engine error is a VoiceError("engine-failed"); neighbours and later tasks succeed', async () => {
    const [bad, good] = await Promise.allSettled([
      voice.synthesize('throw'),
      voice.synthesize('hello', { format: 'wav' }),
    ])
    expect(bad.status).toBe('rejected')
    const error = (bad as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(VoiceError)
    expect(error.code).toBe('engine-failed')
    expect(error.message).toMatch(/^\[@taurobot\/voice\] .*engine refused "throw"/)
    expect(good.status).toBe('fulfilled')
    await expect(voice.synthesize('again')).resolves.toMatchObject({ format: 'ogg' })
  })

  it('process.exit() in a worker is a VoiceError("worker-crashed"); the thread is replaced', async () => {
    const neighbour = voice.synthesize('slow:300', { format: 'wav' })
    const error = await expectVoiceError(voice.synthesize('exit'), 'worker-crashed')
    expect(error.details.exitCode).toBe(3)
    await expect(neighbour).resolves.toMatchObject({ format: 'wav' })
    const after = await Promise.all([1, 2, 3, 4].map(() => voice.synthesize('fine', { format: 'wav' })))
    expect(after).toHaveLength(4)
    expect(voicePool.stats().threads).toBeLessThanOrEqual(2)
  })

  it('running out of memory in a worker is a VoiceError("out-of-memory"); the process survives', async () => {
    const error = await expectVoiceError(voice.synthesize('oom'), 'out-of-memory')
    expect(error.details.maxMemoryMb).toBe(64)
    await expect(voice.synthesize('fine', { format: 'wav' })).resolves.toMatchObject({ format: 'wav' })
  })

  it('the pool never wedges: a burst mixing every fault still completes every good task', async () => {
    const texts = ['throw', 'fine', 'exit', 'fine', 'oom', 'fine', 'throw', 'fine', 'exit', 'fine']
    const results = await Promise.allSettled(texts.map((text) => voice.synthesize(text, { format: 'wav' })))
    results.forEach((result, i) => {
      expect(result.status).toBe(texts[i] === 'fine' ? 'fulfilled' : 'rejected')
    })
    const stats = voicePool.stats()
    expect(stats.running).toBe(0)
    expect(stats.queued).toBe(0)
    expect(stats.threads).toBeLessThanOrEqual(2)
  })
})

describe('cancellation and timeouts', () => {
  it('aborting a queued task removes it at once and rejects with the signal reason', async () => {
    const running = [
      voice.synthesize('slow:1500', { format: 'wav' }),
      voice.synthesize('slow:1500', { format: 'wav' }),
    ]
    let runningSettled = false
    void Promise.allSettled(running).then(() => {
      runningSettled = true
    })
    const controller = new AbortController()
    const queued = voice.synthesize('fine', { signal: controller.signal })
    await new Promise((resolve) => setImmediate(resolve))
    expect(voicePool.stats().queued).toBe(1)
    const reason = new Error('user went away')
    controller.abort(reason)
    await expect(queued).rejects.toBe(reason)
    expect(voicePool.stats().queued).toBe(0)
    expect(runningSettled).toBe(false)
    await Promise.all(running)
  })

  it('an already aborted signal rejects without queueing', async () => {
    const before = voicePool.stats().completed
    const controller = new AbortController()
    controller.abort(new Error('too late'))
    await expect(voice.synthesize('fine', { signal: controller.signal })).rejects.toThrow('too late')
    expect(voicePool.stats().completed).toBe(before)
  })

  it('aborting a running task stops it cooperatively and keeps the thread and its warm engine', async () => {
    await Promise.all([voice.synthesize('fine'), voice.synthesize('fine')])
    const before = voicePool.stats()
    const controller = new AbortController()
    const task = voice.synthesize('slow:20000', { signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(voicePool.stats().running).toBe(1)
    controller.abort(new Error('stop'))
    await expect(task).rejects.toThrow('stop')
    await Promise.all([1, 2, 3, 4].map(() => voice.synthesize('fine')))
    const after = voicePool.stats()
    expect(after.engineInitMs.count).toBe(before.engineInitMs.count)
    expect(after.threads).toBe(before.threads)
  })

  it('a task that ignores cancellation has its thread terminated after the grace period', async () => {
    const controller = new AbortController()
    const task = voice.synthesize('stuck:20000', { signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 100))
    controller.abort(new Error('stop now'))
    await expect(task).rejects.toThrow('stop now')
    // The replacement thread serves the next tasks; nothing waits 20 s for the stuck one.
    await expect(Promise.all([1, 2, 3].map(() => voice.synthesize('fine')))).resolves.toHaveLength(3)
    // The stuck thread is terminated after cancelGraceMs (300 ms), long before its 20 s spin ends.
    await vi.waitFor(() => expect(voicePool.stats().running).toBe(0), { timeout: 10_000, interval: 50 })
  })

  it('timeoutMs rejects with VoiceError("timeout") and frees the thread', async () => {
    const error = await expectVoiceError(voice.synthesize('slow:20000', { timeoutMs: 200 }), 'timeout')
    expect(error.details.timeoutMs).toBe(200)
    await expect(voice.synthesize('fine')).resolves.toMatchObject({ format: 'ogg' })
  })
})

describe('back-pressure', () => {
  it('a full queue rejects with VoiceError("queue-full"); needsDrain and drain() follow the queue', async () => {
    voicePool.configure({ maxQueue: 4 })
    try {
      const accepted = Array.from({ length: 6 }, () => voice.synthesize('slow:200', { format: 'wav' }))
      await new Promise((resolve) => setImmediate(resolve))
      expect(voicePool.stats().queued).toBe(4)
      const error = await expectVoiceError(voice.synthesize('fine'), 'queue-full')
      expect(error.details.maxQueue).toBe(4)
      expect(voicePool.needsDrain).toBe(true)
      await voicePool.drain()
      expect(voicePool.needsDrain).toBe(false)
      expect(voicePool.stats().queued).toBeLessThanOrEqual(2)
      await expect(Promise.all(accepted)).resolves.toHaveLength(6)
    } finally {
      voicePool.configure({ maxQueue: 2048 })
    }
  })

  it('thread settings cannot change once threads run', () => {
    expect(() => voicePool.configure({ maxThreads: 4 })).toThrow(VoiceError)
    expect(() => voicePool.configure({ maxQueue: 0 })).toThrow('maxQueue must be a positive integer, got 0')
  })
})
