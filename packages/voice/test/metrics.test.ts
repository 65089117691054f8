// The Prometheus exporter on a real prom-client Registry, fed by real tasks on the built package:
// the espeak-ng engine, a missing engine module, and a worker thread that really exits.
import { channel, tracingChannel } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Registry, register } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import type * as MetricsModule from '../src/metrics.js'
import { distDir, fixturesDir, loadVoice } from './helpers.js'

const { VoiceSystem, VoiceError, voicePool, voiceChannels } = await loadVoice()
const { registerVoiceMetrics } = (await import(
  pathToFileURL(join(distDir, 'metrics.js')).href
)) as typeof MetricsModule
const cjsMetrics = createRequire(import.meta.url)(join(distDir, 'metrics.cjs')) as typeof MetricsModule
// One thread: the engine is then loaded exactly once per engine, and a queue forms on demand.
voicePool.configure({ maxThreads: 1 })
const faultEngine = join(fixturesDir, 'fault-engine.mjs')

afterAll(async () => {
  await voicePool.close()
})

/** The value of one series in Prometheus text, e.g. `x_total{code="io"}`; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Every listener the exporter may leave behind, as `hasSubscribers`. */
function listeners(): boolean[] {
  return [
    tracingChannel(voiceChannels.task).hasSubscribers,
    channel(`tracing:${voiceChannels.task}:asyncEnd`).hasSubscribers,
    channel(voiceChannels.engineInit).hasSubscribers,
    channel(voiceChannels.pool).hasSubscribers,
  ]
}

describe('registerVoiceMetrics()', () => {
  it('counts syntheses, a failed request, audio, timings and the engine load exactly', async () => {
    const registry = new Registry()
    const metrics = registerVoiceMetrics({ registry })
    try {
      const voice = new VoiceSystem({ language: 'it' })
      const texts = ['Ciao, come stai?', 'Il numero segreto è 98765.', 'A presto, Giulia.']
      const clips = []
      for (const [i, text] of texts.entries()) {
        clips.push(await voice.synthesize(text, { format: i === 0 ? 'wav' : 'ogg', input: 'text' }))
      }
      const missing = join(tmpdir(), 'user-42', 'no-such-engine.mjs')
      const error = await new VoiceSystem({ engine: missing, language: 'it' })
        .synthesize('ciao')
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(VoiceError)

      const text = await registry.metrics()
      const wasm = 'engine="espeak-ng-wasm"'
      expect(sample(text, `taurobot_voice_tasks_total{${wasm},outcome="completed"}`)).toBe(3)
      expect(sample(text, 'taurobot_voice_tasks_total{engine="custom",outcome="failed"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_errors_total{code="engine-missing"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_task_wait_seconds_count')).toBe(4)
      expect(sample(text, `taurobot_voice_task_run_seconds_count{${wasm}}`)).toBe(3)
      expect(sample(text, 'taurobot_voice_task_run_seconds_count{engine="custom"}')).toBe(1)
      expect(sample(text, `taurobot_voice_task_run_seconds_bucket{le="+Inf",${wasm}}`)).toBe(3)
      expect(sample(text, `taurobot_voice_engine_init_seconds_count{${wasm}}`)).toBe(1)
      expect(sample(text, `taurobot_voice_engine_init_seconds_sum{${wasm}}`)).toBeCloseTo(
        (voicePool.stats().engineInitMs.last as number) / 1000,
        6,
      )
      const spoken = clips.reduce((sum, clip) => sum + clip.durationMs, 0) / 1000
      expect(sample(text, `taurobot_voice_audio_seconds_total{${wasm}}`)).toBeCloseTo(spoken, 6)
      expect(sample(text, 'taurobot_voice_queue_length')).toBe(0)
      expect(sample(text, 'taurobot_voice_threads')).toBe(1)
      // Label values stay bounded: no text, no path, no language.
      expect(text).not.toContain('98765')
      expect(text).not.toContain('user-42')
      expect(text).not.toContain('language')
      expect(text).toMatch(/# TYPE taurobot_voice_task_run_seconds histogram/)
      expect(text).toMatch(/# TYPE taurobot_voice_queue_length gauge/)
      expect(text).toMatch(/# TYPE taurobot_voice_errors_total counter/)
    } finally {
      metrics.dispose()
    }
  })

  it('reads the queue length from the pool at scrape time', async () => {
    const registry = new Registry()
    const metrics = registerVoiceMetrics({ registry })
    const voice = new VoiceSystem({ engine: faultEngine, language: 'xx' })
    try {
      const tasks = [voice.synthesize('slow:400'), voice.synthesize('fine'), voice.synthesize('fine')]
      expect(sample(await registry.metrics(), 'taurobot_voice_queue_length')).toBe(2)
      await Promise.all(tasks)
      expect(sample(await registry.metrics(), 'taurobot_voice_queue_length')).toBe(0)
    } finally {
      metrics.dispose()
    }
  })

  it('counts a worker crash as a thread replacement, and cancellations without errors', async () => {
    const registry = new Registry()
    const metrics = registerVoiceMetrics({ registry })
    const voice = new VoiceSystem({ engine: faultEngine, language: 'xx' })
    try {
      const crash = await voice.synthesize('exit').catch((e: unknown) => e)
      expect(crash).toMatchObject({ code: 'worker-crashed' })
      await voice.synthesize('fine')
      const controller = new AbortController()
      controller.abort(new Error('gone'))
      await expect(voice.synthesize('fine', { signal: controller.signal })).rejects.toThrow('gone')
      await expect(voice.synthesize('slow:20000', { timeoutMs: 50 })).rejects.toMatchObject({
        code: 'timeout',
      })
      const text = await registry.metrics()
      expect(sample(text, 'taurobot_voice_thread_replacements_total{reason="worker-crashed"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_errors_total{code="worker-crashed"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_errors_total{code="timeout"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_tasks_total{engine="custom",outcome="failed"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_tasks_total{engine="custom",outcome="completed"}')).toBe(1)
      expect(sample(text, 'taurobot_voice_tasks_total{engine="custom",outcome="cancelled"}')).toBe(2)
      // The replacement thread loaded the engine again.
      expect(
        sample(text, 'taurobot_voice_engine_init_seconds_count{engine="custom"}'),
      ).toBeGreaterThanOrEqual(1)
    } finally {
      metrics.dispose()
    }
  })

  it('dispose() removes every metric and every subscription, and may be called twice', () => {
    expect(listeners()).toEqual([false, false, false, false])
    const registry = new Registry()
    const metrics = registerVoiceMetrics({ registry, prefix: 'bot_voice_' })
    expect(metrics.names).toContain('bot_voice_tasks_total')
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(metrics.names)
    expect(listeners()).toEqual([true, true, true, true])
    metrics.dispose()
    metrics.dispose()
    expect(registry.getMetricsAsArray()).toEqual([])
    expect(listeners()).toEqual([false, false, false, false])
  })

  it('works with `using` and from the CommonJS build, counting tasks of the ESM build', async () => {
    const registry = new Registry()
    {
      using metrics = cjsMetrics.registerVoiceMetrics({ registry })
      await new VoiceSystem({ language: 'it' }).synthesize('Ciao!', { format: 'wav' })
      const text = await registry.metrics()
      expect(sample(text, 'taurobot_voice_tasks_total{engine="espeak-ng-wasm",outcome="completed"}')).toBe(1)
      expect(metrics.names).toHaveLength(9)
    }
    expect(registry.getMetricsAsArray()).toEqual([])
    expect(listeners()).toEqual([false, false, false, false])
  })

  it("uses prom-client's default registry when none is given", () => {
    const metrics = registerVoiceMetrics()
    try {
      expect(register.getSingleMetric('taurobot_voice_tasks_total')).toBeDefined()
    } finally {
      metrics.dispose()
    }
    expect(register.getSingleMetric('taurobot_voice_tasks_total')).toBeUndefined()
  })

  it('refuses a second registration on the same registry, until the first is disposed', () => {
    const registry = new Registry()
    const first = registerVoiceMetrics({ registry })
    try {
      let error: unknown
      try {
        registerVoiceMetrics({ registry })
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(VoiceError)
      expect((error as InstanceType<typeof VoiceError>).code).toBe('metrics-registered')
      expect((error as Error).message).toMatch(/already has taurobot_voice_tasks_total, .*dispose\(\)/)
      // Another prefix does not collide.
      registerVoiceMetrics({ registry, prefix: 'second_' }).dispose()
    } finally {
      first.dispose()
    }
    registerVoiceMetrics({ registry }).dispose()
    expect(listeners()).toEqual([false, false, false, false])
  })

  it('checks its options, naming the bad value', () => {
    expect(() => registerVoiceMetrics({ prefix: '9voice_' })).toThrow(
      new RangeError(
        'prefix must start a Prometheus metric name (letters, digits, _ and :, not starting with a digit), got "9voice_"',
      ),
    )
    expect(() => registerVoiceMetrics({ prefix: 'voice-' })).toThrow(RangeError)
    expect(() => registerVoiceMetrics({ prefix: 7 as unknown as string })).toThrow(
      new TypeError('prefix must be a string, got 7'),
    )
    expect(() => registerVoiceMetrics({ registry: {} as Registry })).toThrow(
      /registry must be a prom-client Registry \(new Registry\(\) from prom-client, or its `register`\), got/,
    )
    expect(() => registerVoiceMetrics({ registy: new Registry() } as never)).toThrow(
      'unknown option "registy" of registerVoiceMetrics(): did you mean registry?',
    )
    expect(() => registerVoiceMetrics(null as never)).toThrow(TypeError)
    expect(listeners()).toEqual([false, false, false, false])
  })
})
