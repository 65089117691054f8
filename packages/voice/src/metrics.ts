/**
 * Prometheus metrics for `@taurobot/voice`, fed by its diagnostics channels and by
 * `voicePool.stats()` at scrape time. Needs `prom-client` (an optional peer).
 * @packageDocumentation
 * @module @taurobot/voice/metrics
 */

import { createRequire } from 'node:module'
import type { Counter, Gauge, Histogram, OpenMetricsContentType, Registry } from 'prom-client'
import { describe } from './describe.js'
import {
  engineInitChannel,
  poolChannel,
  taskChannel,
  type VoiceEngineInitMessage,
  type VoicePoolMessage,
  type VoiceTaskMessage,
} from './diagnostics.js'
import { isBuiltInEngine } from './engine.js'
import { VoiceError } from './errors.js'
import { checkOptionNames, checkOptionsObject } from './known-options.js'
import { voicePool } from './pool/shared-pool.js'

/** Options of {@link registerVoiceMetrics}. */
export interface VoiceMetricsOptions {
  /**
   * The prom-client registry to add the metrics to (an OpenMetrics one works too).
   * @default prom-client's global `register`
   */
  registry?: Registry | Registry<OpenMetricsContentType>
  /**
   * Put before every metric name; a valid Prometheus name start (letters, digits, `_`, `:`).
   * @default 'taurobot_voice_'
   */
  prefix?: string
}

/** What {@link registerVoiceMetrics} returns. */
export interface VoiceMetrics {
  /** The full names of the registered metrics. */
  readonly names: readonly string[]
  /** Unsubscribes from every channel and removes every metric from the registry. Idempotent. */
  dispose(): void
  /** Same as `dispose()`, for `using`. */
  [Symbol.dispose](): void
}

const optionNames = ['registry', 'prefix'] as const

// Seconds. Speech runs from ~10 ms (a warm sentence) to seconds (a long reply, a cold engine); a
// queue wait from nothing to as long as the tasks ahead of it.
const taskBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const engineInitBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

type PromClient = typeof import('prom-client')

/** prom-client, loaded only when metrics are asked for, so the package works without it. */
function loadPromClient(): PromClient {
  try {
    // require() and not import(): registering stays synchronous, and prom-client is CommonJS.
    return createRequire(import.meta.url)('prom-client') as PromClient
  } catch (cause) {
    throw new VoiceError(
      'metrics-unavailable',
      `registerVoiceMetrics() needs the prom-client package, which could not be loaded (${(cause as Error).message.split('\n')[0]}). Run \`npm install prom-client@15\`.`,
      { cause },
    )
  }
}

/**
 * A label value for an engine: a built-in engine's name, else `custom`. A custom engine is named by
 * its module path, which must not become a label (one series per path, and a machine path leaked).
 */
function engineLabel(engine: string): string {
  return isBuiltInEngine(engine) ? engine : 'custom'
}

/**
 * Registers the voice metrics (see the README for each one) with prom-client and keeps them
 * current: counters and histograms from the diagnostics channels, gauges from `voicePool.stats()`
 * at each scrape. Label values are bounded: engine names (`custom` for a module path), outcomes,
 * error codes; never text, languages or ids.
 * @example
 * ```ts
 * import { Registry } from 'prom-client'
 * import { registerVoiceMetrics } from '@taurobot/voice/metrics'
 * const registry = new Registry()
 * const metrics = registerVoiceMetrics({ registry })
 * // later, in the /metrics handler: await registry.metrics()
 * metrics.dispose()
 * ```
 */
export function registerVoiceMetrics(options: VoiceMetricsOptions = {}): VoiceMetrics {
  checkOptionsObject(options, 'registerVoiceMetrics()')
  checkOptionNames(options, optionNames, 'registerVoiceMetrics()')
  const prefix = options.prefix ?? 'taurobot_voice_'
  if (typeof prefix !== 'string') {
    throw new TypeError(`prefix must be a string, got ${describe(prefix)}`)
  }
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new RangeError(
      `prefix must start a Prometheus metric name (letters, digits, _ and :, not starting with a digit), got ${describe(prefix)}`,
    )
  }
  const client = loadPromClient()
  const registry = options.registry ?? client.register
  // Duck-typed: the caller's prom-client may be another copy than the one resolved here.
  const methods = ['getSingleMetric', 'registerMetric', 'removeSingleMetric', 'metrics'] as const
  if (
    typeof registry !== 'object' ||
    registry === null ||
    methods.some((method) => typeof registry[method] !== 'function')
  ) {
    const missing = methods.filter(
      (method) => typeof (registry as Partial<Registry> | null)?.[method] !== 'function',
    )
    throw new TypeError(
      `registry must be a prom-client Registry (new Registry() from prom-client, or its \`register\`), got ${describe(registry)}${typeof registry === 'object' && registry !== null ? ` without ${missing.join(', ')}` : ''}`,
    )
  }
  const name = (suffix: string) => `${prefix}${suffix}`
  const names = [
    'tasks_total',
    'task_wait_seconds',
    'task_run_seconds',
    'audio_seconds_total',
    'errors_total',
    'engine_init_seconds',
    'thread_replacements_total',
    'queue_length',
    'threads',
  ].map(name)
  const taken = names.filter((metric) => registry.getSingleMetric(metric) !== undefined)
  if (taken.length > 0) {
    throw new VoiceError(
      'metrics-registered',
      `the registry already has ${taken.join(', ')}. Call dispose() on the earlier registerVoiceMetrics() result, or pass another registry or prefix.`,
      { details: { names: taken } },
    )
  }
  const registers = [registry]

  const tasks: Counter<'engine' | 'outcome'> = new client.Counter({
    name: name('tasks_total'),
    help: 'Voice tasks (speech and warm-ups) that ended, by engine and outcome (completed, failed, cancelled).',
    labelNames: ['engine', 'outcome'],
    registers,
  })
  const wait: Histogram = new client.Histogram({
    name: name('task_wait_seconds'),
    help: 'Time voice tasks waited in the pool queue before a thread started them, in seconds.',
    buckets: taskBuckets,
    registers,
  })
  const run: Histogram<'engine'> = new client.Histogram({
    name: name('task_run_seconds'),
    help: 'Time a worker thread spent on a voice task (engine loading included), in seconds.',
    labelNames: ['engine'],
    buckets: taskBuckets,
    registers,
  })
  const audio: Counter<'engine'> = new client.Counter({
    name: name('audio_seconds_total'),
    help: 'Seconds of speech synthesized (completed speech tasks, warm-ups excluded).',
    labelNames: ['engine'],
    registers,
  })
  const errors: Counter<'code'> = new client.Counter({
    name: name('errors_total'),
    help: 'Voice tasks that ended with a VoiceError, by its code.',
    labelNames: ['code'],
    registers,
  })
  const engineInit: Histogram<'engine'> = new client.Histogram({
    name: name('engine_init_seconds'),
    help: 'Time a worker thread took to load and initialise a speech engine, in seconds.',
    labelNames: ['engine'],
    buckets: engineInitBuckets,
    registers,
  })
  const replacements: Counter<'reason'> = new client.Counter({
    name: name('thread_replacements_total'),
    help: 'Worker threads that died under a task and were replaced, by reason.',
    labelNames: ['reason'],
    registers,
  })
  const queue: Gauge = new client.Gauge({
    name: name('queue_length'),
    help: 'Voice tasks waiting for a worker thread.',
    registers,
    collect() {
      this.set(voicePool.stats().queued)
    },
  })
  const threads: Gauge = new client.Gauge({
    name: name('threads'),
    help: 'Worker threads of the voice pool alive now.',
    registers,
    collect() {
      this.set(voicePool.stats().threads)
    },
  })
  const metrics = [tasks, wait, run, audio, errors, engineInit, replacements, queue, threads]

  // A subscriber must never throw: diagnostics_channel would rethrow it as an uncaught exception.
  const onTaskEnd = (message: unknown) => {
    const task = message as VoiceTaskMessage
    const engine = engineLabel(task.engine)
    if (task.outcome !== undefined) tasks.inc({ engine, outcome: task.outcome })
    if (task.waitMs !== undefined) wait.observe(task.waitMs / 1000)
    if (task.runMs !== undefined) run.observe({ engine }, task.runMs / 1000)
    if (task.kind === 'synthesize' && task.audioMs !== undefined) audio.inc({ engine }, task.audioMs / 1000)
    if (task.errorCode !== undefined) errors.inc({ code: task.errorCode })
  }
  const onEngineInit = (message: unknown) => {
    const init = message as VoiceEngineInitMessage
    engineInit.observe({ engine: engineLabel(init.engine) }, init.durationMs / 1000)
  }
  const onPool = (message: unknown) => {
    const event = message as VoicePoolMessage
    if (event.event === 'thread-replaced') replacements.inc({ reason: event.reason })
  }
  taskChannel.asyncEnd.subscribe(onTaskEnd)
  engineInitChannel.subscribe(onEngineInit)
  poolChannel.subscribe(onPool)

  let disposed = false
  const dispose = () => {
    if (disposed) return
    disposed = true
    taskChannel.asyncEnd.unsubscribe(onTaskEnd)
    engineInitChannel.unsubscribe(onEngineInit)
    poolChannel.unsubscribe(onPool)
    // Only ours: a metric registered under the same name after a reset belongs to someone else.
    metrics.forEach((metric, i) => {
      const metricName = names[i] as string
      if ((registry.getSingleMetric(metricName) as unknown) === metric)
        registry.removeSingleMetric(metricName)
    })
  }
  return { names, dispose, [Symbol.dispose]: dispose }
}
