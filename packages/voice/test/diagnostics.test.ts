// The diagnostics channels, observed the way an APM tool would: through node:diagnostics_channel by
// name, around real tasks on the built package (the real worker, the real espeak-ng engine).
import { channel, tracingChannel } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type * as VoiceModule from '../src/index.js'
import { distDir, fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, VoiceError, voicePool, voiceChannels } = await loadVoice()
const cjs = createRequire(import.meta.url)(join(distDir, 'index.cjs')) as typeof VoiceModule
// One thread: which thread loads the engine, and how often, is then certain.
voicePool.configure({ maxThreads: 1 })

afterAll(async () => {
  await voicePool.close()
})

type Message = Record<string, unknown>

/** Records every event of the task tracing channel, by event name, until `stop()`. */
function recordTasks() {
  const seen: Array<{ event: string; message: Message; snapshot: Message }> = []
  const handler =
    (event: string) =>
    (message: unknown): void => {
      seen.push({ event, message: message as Message, snapshot: { ...(message as Message) } })
    }
  const handlers = {
    start: handler('start'),
    end: handler('end'),
    asyncStart: handler('asyncStart'),
    asyncEnd: handler('asyncEnd'),
    error: handler('error'),
  }
  const traced = tracingChannel(voiceChannels.task)
  traced.subscribe(handlers)
  return { seen, stop: () => traced.unsubscribe(handlers) }
}

/** Records every message of a plain channel until `stop()`. */
function record(name: string) {
  const seen: Message[] = []
  const onMessage = (message: unknown) => {
    seen.push(message as Message)
  }
  channel(name).subscribe(onMessage)
  return { seen, stop: () => channel(name).unsubscribe(onMessage) }
}

describe('the channel names', () => {
  it('are the documented ones', () => {
    expect(voiceChannels).toEqual({
      task: 'taurobot:voice:task',
      engineInit: 'taurobot:voice:engine-init',
      pool: 'taurobot:voice:pool',
    })
  })
})

describe('taurobot:voice:pool and taurobot:voice:engine-init', () => {
  it('report the pool starting and the engine loading on its thread', async () => {
    const pool = record(voiceChannels.pool)
    const inits = record(voiceChannels.engineInit)
    try {
      await new VoiceSystem({ language: 'it' }).synthesize('Primo messaggio.', { format: 'wav' })
      expect(pool.seen).toEqual([{ event: 'created', maxThreads: 1 }])
      expect(inits.seen).toHaveLength(1)
      const [init] = inits.seen as [Message]
      expect(init.engine).toBe('espeak-ng-wasm')
      expect(init.durationMs).toBeGreaterThan(0)
      expect(init.durationMs).toBe(voicePool.stats().engineInitMs.last)
      expect(typeof init.threadId).toBe('number')
      // A warm thread does not load the engine again.
      await new VoiceSystem({ language: 'it' }).synthesize('Secondo messaggio.', { format: 'wav' })
      expect(inits.seen).toHaveLength(1)
    } finally {
      pool.stop()
      inits.stop()
    }
  })
})

describe('taurobot:voice:task', () => {
  it('traces a synthesis: the settings and text length at start, audio and timings at the end', async () => {
    const tasks = recordTasks()
    const text = 'Buongiorno, il segreto è 4321.'
    let audio: Awaited<ReturnType<InstanceType<typeof VoiceSystem>['synthesize']>>
    try {
      audio = await new VoiceSystem({ language: 'it-IT', voice: 'f3' }).synthesize(text, { input: 'text' })
    } finally {
      tasks.stop()
    }
    expect(tasks.seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    const [start, , , asyncEnd] = tasks.seen as [
      (typeof tasks.seen)[0],
      unknown,
      unknown,
      (typeof tasks.seen)[0],
    ]
    expect(start.snapshot).toEqual({
      kind: 'synthesize',
      engine: 'espeak-ng-wasm',
      language: 'it',
      voice: 'f3',
      format: 'ogg',
      textLength: text.length,
    })
    // One object per task, completed in place before the end events.
    expect(asyncEnd.message).toBe(start.message)
    const end = asyncEnd.snapshot
    expect(end.outcome).toBe('completed')
    expect(end.audioBytes).toBe(audio.data.byteLength)
    expect(end.audioMs).toBe(audio.durationMs)
    expect(end.waitMs).toBeGreaterThanOrEqual(0)
    expect(end.runMs).toBeGreaterThan(0)
    expect(end.errorCode).toBeUndefined()
    // The text itself is never in the message, in any field.
    const { result: _result, ...fields } = end
    expect(JSON.stringify(fields)).not.toContain('4321')
    expect(JSON.stringify(fields)).not.toContain('segreto')
  })

  it('publishes a VoiceError with its code on the error event', async () => {
    const tasks = recordTasks()
    const engine = join(tmpdir(), 'taurobot-no-such-engine.mjs')
    let caught: unknown
    try {
      caught = await new VoiceSystem({ engine, language: 'it' }).synthesize('ciao').catch((e: unknown) => e)
    } finally {
      tasks.stop()
    }
    expect(caught).toBeInstanceOf(VoiceError)
    expect(tasks.seen.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    const end = (tasks.seen.at(-1) as (typeof tasks.seen)[0]).snapshot
    expect(end).toMatchObject({ engine, outcome: 'failed', errorCode: 'engine-missing', error: caught })
    expect(end.runMs).toBeGreaterThan(0)
    expect(end.audioBytes).toBeUndefined()
  })

  it('marks an aborted task cancelled, and a refused one failed with its code', async () => {
    const tasks = recordTasks()
    const voice = new VoiceSystem({ language: 'it' })
    try {
      const controller = new AbortController()
      controller.abort(new Error('the user left'))
      await expect(voice.synthesize('ciao', { signal: controller.signal })).rejects.toThrow('the user left')
      const timedOut = await voice.synthesize('ciao', { timeoutMs: 0.001 }).catch((e: unknown) => e)
      expect(timedOut).toBeInstanceOf(VoiceError)
    } finally {
      tasks.stop()
    }
    const ends = tasks.seen.filter((s) => s.event === 'asyncEnd').map((s) => s.snapshot)
    expect(ends).toHaveLength(2)
    expect(ends[0]).toMatchObject({ outcome: 'cancelled' })
    expect(ends[0]?.errorCode).toBeUndefined()
    expect(ends[0]?.waitMs).toBeUndefined()
    expect(ends[1]).toMatchObject({ outcome: 'cancelled', errorCode: 'timeout' })
  })

  it('traces each copy of a warm-up as kind "warmup"', async () => {
    const tasks = recordTasks()
    try {
      await new VoiceSystem({ language: 'it' }).warmup()
    } finally {
      tasks.stop()
    }
    const ends = tasks.seen.filter((s) => s.event === 'asyncEnd').map((s) => s.snapshot)
    expect(ends).toHaveLength(1)
    expect(ends[0]).toMatchObject({ kind: 'warmup', outcome: 'completed' })
  })

  it('is the same channel for the CommonJS build', async () => {
    const tasks = recordTasks()
    try {
      await new cjs.VoiceSystem({ language: 'it' }).synthesize('Ciao da CommonJS.', { format: 'wav' })
    } finally {
      tasks.stop()
    }
    const end = tasks.seen.at(-1)
    expect(end?.event).toBe('asyncEnd')
    expect(end?.snapshot).toMatchObject({ outcome: 'completed', format: 'wav' })
  })

  it('leaves no subscriber behind, and tasks run untraced without one', async () => {
    const tasks = recordTasks()
    tasks.stop()
    expect(tracingChannel(voiceChannels.task).hasSubscribers).toBe(false)
    expect(channel(voiceChannels.pool).hasSubscribers).toBe(false)
    expect(channel(voiceChannels.engineInit).hasSubscribers).toBe(false)
    await expect(new VoiceSystem({ language: 'it' }).synthesize('ciao')).resolves.toMatchObject({
      format: 'ogg',
    })
    expect(tasks.seen).toEqual([])
  })
})

describe('faults on the channels', () => {
  const faultEngine = join(fixturesDir, 'fault-engine.mjs')

  it('reports an engine load even when the task that paid for it failed', async () => {
    const inits = record(voiceChannels.engineInit)
    try {
      const error = await new VoiceSystem({ engine: faultEngine, language: 'xx' })
        .synthesize('throw')
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'engine-failed' })
    } finally {
      inits.stop()
    }
    expect(inits.seen).toHaveLength(1)
    expect(inits.seen[0]).toMatchObject({ engine: faultEngine })
  })

  it('reports a thread lost under a task: worker-crashed, then terminated after the grace period', async () => {
    voicePool.configure({ cancelGraceMs: 200 })
    const pool = record(voiceChannels.pool)
    const voice = new VoiceSystem({ engine: faultEngine, language: 'xx' })
    try {
      await expect(voice.synthesize('exit')).rejects.toMatchObject({ code: 'worker-crashed' })
      // The replacement thread starts and loads the engine first, so the stuck task below is
      // spinning on it (not still loading, which would see the cancellation) when aborted.
      await voice.synthesize('fine')
      const controller = new AbortController()
      const stuck = voice.synthesize('stuck:20000', { signal: controller.signal })
      await vi.waitFor(() => expect(voicePool.stats().running).toBe(1), { timeout: 10_000, interval: 20 })
      await new Promise((resolve) => setTimeout(resolve, 100))
      controller.abort(new Error('stop'))
      await expect(stuck).rejects.toThrow('stop')
      await vi.waitFor(() => expect(pool.seen).toHaveLength(2), { timeout: 10_000, interval: 50 })
    } finally {
      pool.stop()
    }
    expect(pool.seen).toEqual([
      { event: 'thread-replaced', reason: 'worker-crashed' },
      { event: 'thread-replaced', reason: 'terminated' },
    ])
    await expect(voice.synthesize('fine')).resolves.toMatchObject({ format: 'ogg' })
  })
})

describe('taurobot:voice:pool closing', () => {
  it('reports the threads stopped by close()', async () => {
    const pool = record(voiceChannels.pool)
    try {
      await voicePool.close()
    } finally {
      pool.stop()
    }
    expect(pool.seen).toEqual([{ event: 'closed', by: 'close' }])
  })
})
