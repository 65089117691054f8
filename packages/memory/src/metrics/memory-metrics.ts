import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Counter, Gauge, Histogram, Registry } from 'prom-client'
import {
  type MemoryCompactionEvent,
  type MemoryErrorEvent,
  type MemorySaveContext,
  memoryChannels,
  STORE_PROBE,
  type StoreProbe,
} from '../diagnostics.js'
import { MemoryError } from '../errors.js'
import type { Memory } from '../memory-api.js'
import { show } from '../message.js'
import { knownOptions } from '../options.js'
import { loadPromClient, type PromClientModule } from './load-prom-client.js'
import {
  assertNamesFree,
  bucketsOption,
  clientOption,
  codeLabel,
  OPTION_NAMES,
  prefixOption,
  registryOption,
  storeOption,
} from './metrics-options.js'
import { SaveDurations } from './save-durations.js'

/** Options of {@link registerMemoryMetrics}. */
export interface MemoryMetricsOptions {
  /**
   * The registry the metrics are registered in.
   * @default the `register` of prom-client (its global registry)
   */
  registry?: Registry
  /**
   * What every metric name starts with.
   * @default 'taurobot_memory_'
   */
  prefix?: string
  /**
   * Upper bounds of the `save_duration_seconds` histogram's buckets, in seconds, ascending.
   * @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
   */
  buckets?: readonly number[]
  /**
   * The prom-client module to build the metrics with, when yours is not the one this package
   * would load (a bundle, another copy).
   * @default the prom-client this package resolves
   */
  client?: PromClientModule
}

/** Options of {@link MemoryMetrics.track}. */
export interface TrackOptions {
  /**
   * The value of the `store` label of this store's series: a name you choose (`chats`, `web`),
   * letters, digits and `_ . : -`, at most 64 characters. Never a conversation or user id: each
   * value is a new series.
   */
  store: string
}

/** The metrics registered by {@link registerMemoryMetrics}. */
export interface MemoryMetrics {
  /**
   * Counts the events of `memory` under `store="<name>"` from now on, and reports its pending
   * messages at each scrape. Returns a function that stops tracking it (its counters and
   * histogram keep their values, and go on from them if tracked again under the same name; its
   * pending gauge series is removed).
   */
  track(memory: Memory, options: TrackOptions): () => void
  /**
   * Unsubscribes from every channel and removes every metric from the registry. Idempotent; a
   * registry can then take new metrics of the same names.
   */
  dispose(): void
  /** Same as `dispose()`, for `using metrics = registerMemoryMetrics()`. */
  [Symbol.dispose](): void
}

/** What a tracked store's counters add up to, kept as numbers between scrapes. */
interface Totals {
  saves: number
  messages: number
  bytes: number
  compactions: number
  compactionBytes: number
}

interface Tracked {
  readonly probe: StoreProbe
  readonly labels: { store: string }
  readonly totals: Totals
  /** What the counters were handed at the last scrape. */
  readonly reported: Totals
  /** Its write durations until the next scrape; `undefined`: each is observed at once. */
  readonly durations: SaveDurations | undefined
}

/** A count from a payload, as prom-client accepts it (a negative or odd value would throw). */
function amount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0
}

function probeOf(memory: unknown): StoreProbe {
  const probe =
    typeof memory === 'object' && memory !== null
      ? (memory as { [STORE_PROBE]?: StoreProbe })[STORE_PROBE]
      : undefined
  if (probe === undefined) {
    throw new TypeError(`memory must be a store returned by openMemory(), got ${show(memory)}`)
  }
  return probe
}

/**
 * Registers the Prometheus metrics of `@taurobot/memory` and keeps them up to date from its
 * diagnostics channels; {@link MemoryMetrics.track} names each store whose events are counted.
 * One call serves every store of the process.
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 * import { registerMemoryMetrics } from '@taurobot/memory/metrics'
 * import { register } from 'prom-client'
 *
 * const metrics = registerMemoryMetrics()
 * const memory = await openMemory({ path: 'memory/conversations.json' })
 * metrics.track(memory, { store: 'chats' })
 * // serve `await register.metrics()` on GET /metrics
 * ```
 */
export function registerMemoryMetrics(options?: MemoryMetricsOptions): MemoryMetrics {
  const o = knownOptions(options, OPTION_NAMES)
  const prefix = prefixOption(o.prefix)
  const buckets = bucketsOption(o.buckets)
  const client = o.client === undefined ? loadPromClient() : clientOption(o.client)
  const registry = o.registry === undefined ? client.register : registryOption(o.registry)

  const names = {
    saves: `${prefix}saves_total`,
    messages: `${prefix}messages_written_total`,
    bytes: `${prefix}bytes_written_total`,
    duration: `${prefix}save_duration_seconds`,
    saveErrors: `${prefix}save_errors_total`,
    pending: `${prefix}pending_messages`,
    compactions: `${prefix}compactions_total`,
    compactionBytes: `${prefix}compaction_bytes_total`,
    errors: `${prefix}errors_total`,
  }
  assertNamesFree(registry, Object.values(names))

  /** The tracked stores by number, each with its label set and running totals. */
  const tracked = new Map<number, Tracked>()
  // Each name's label set, kept past untrack: a store tracked again under its name finds the
  // histogram series made for this very object (see save-durations.ts) and keeps its counts.
  const labelSets = new Map<string, { store: string }>()
  // The counters fed on every write are plain numbers until a scrape: a prom-client inc() hashes
  // its labels each time, which would cost an in-process add() several percent. Each counter's
  // collect() hands over what was added since the last scrape.
  const handOver = (counter: Counter<string>, key: keyof Totals, entry: Tracked): void => {
    const delta = entry.totals[key] - entry.reported[key]
    if (delta <= 0) return
    counter.inc(entry.labels, delta)
    entry.reported[key] = entry.totals[key]
  }
  const collectTotals = (key: keyof Totals) =>
    function collect(this: Counter<string>): void {
      for (const entry of tracked.values()) handOver(this, key, entry)
    }
  const registers = [registry]
  const store = ['store']
  const saves: Counter<string> = new client.Counter({
    name: names.saves,
    help: 'Backend writes that succeeded (one per batch).',
    labelNames: store,
    registers,
    collect: collectTotals('saves'),
  })
  const messages: Counter<string> = new client.Counter({
    name: names.messages,
    help: 'Changes written by the backend: messages added, upserts and removes.',
    labelNames: store,
    registers,
    collect: collectTotals('messages'),
  })
  const bytes: Counter<string> = new client.Counter({
    name: names.bytes,
    help: 'Bytes the backend wrote for those changes (journal records, rows, commands); snapshot rewrites are in compaction_bytes_total.',
    labelNames: store,
    registers,
    collect: collectTotals('bytes'),
  })
  // Durations too are counted apart until a scrape (see save-durations.ts).
  const duration: Histogram<string> = new client.Histogram({
    name: names.duration,
    help: 'Wall-clock duration of the backend writes that succeeded, in seconds.',
    labelNames: store,
    buckets,
    registers,
    collect() {
      for (const entry of tracked.values()) entry.durations?.handOver()
    },
  })
  const saveErrors: Counter<string> = new client.Counter({
    name: names.saveErrors,
    help: 'Backend writes that failed, by MemoryError code; batched messages are kept and retried.',
    labelNames: ['store', 'code'],
    registers,
  })
  const pending: Gauge<string> = new client.Gauge({
    name: names.pending,
    help: 'Messages accepted and not yet durable, read at scrape time.',
    labelNames: store,
    registers,
    collect() {
      for (const { probe, labels } of tracked.values()) pending.set(labels, probe.pending())
    },
  })
  const compactions: Counter<string> = new client.Counter({
    name: names.compactions,
    help: 'Snapshot rewrites of the file backend.',
    labelNames: store,
    registers,
    collect: collectTotals('compactions'),
  })
  const compactionBytes: Counter<string> = new client.Counter({
    name: names.compactionBytes,
    help: 'Bytes of the snapshots the file backend wrote.',
    labelNames: store,
    registers,
    collect: collectTotals('compactionBytes'),
  })
  const errors: Counter<string> = new client.Counter({
    name: names.errors,
    help: 'Errors a store reported on its error event (failed background writes), by MemoryError code.',
    labelNames: ['store', 'code'],
    registers,
  })

  const counted: Array<[Counter<string>, keyof Totals]> = [
    [saves, 'saves'],
    [messages, 'messages'],
    [bytes, 'bytes'],
    [compactions, 'compactions'],
    [compactionBytes, 'compactionBytes'],
  ]

  // Handlers run inside the publisher's call: they must not throw (a subscriber's exception is
  // rethrown on the next tick and would end the process), so every value is checked first.
  const onSaveEnd = (message: unknown): void => {
    const context = message as MemorySaveContext
    const entry = tracked.get(context.store)
    if (entry === undefined || context.code !== undefined) return
    entry.totals.saves++
    entry.totals.messages += amount(context.written)
    entry.totals.bytes += amount(context.bytes)
    const seconds = amount(context.durationMs) / 1000
    if (entry.durations === undefined) duration.observe(entry.labels, seconds)
    else entry.durations.record(seconds)
  }
  const onSaveError = (message: unknown): void => {
    const context = message as MemorySaveContext
    const entry = tracked.get(context.store)
    if (entry === undefined) return
    saveErrors.inc({ store: entry.labels.store, code: codeLabel(context.code) })
  }
  const onCompaction = (message: unknown): void => {
    const event = message as MemoryCompactionEvent
    const entry = event.store === undefined ? undefined : tracked.get(event.store)
    if (entry === undefined) return
    entry.totals.compactions++
    entry.totals.compactionBytes += amount(event.bytes)
  }
  const onError = (message: unknown): void => {
    const event = message as MemoryErrorEvent
    const entry = tracked.get(event.store)
    if (entry === undefined) return
    errors.inc({ store: entry.labels.store, code: codeLabel(event.code) })
  }

  // The save trace's two events by name: only these are needed, and each is undone by name.
  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [`tracing:${memoryChannels.save}:asyncEnd`, onSaveEnd],
    [`tracing:${memoryChannels.save}:error`, onSaveError],
    [memoryChannels.compaction, onCompaction],
    [memoryChannels.error, onError],
  ]
  for (const [name, handler] of subscriptions) subscribe(name, handler)
  let disposed = false

  const dispose = (): void => {
    if (disposed) return
    disposed = true
    for (const [name, handler] of subscriptions) unsubscribe(name, handler)
    tracked.clear()
    for (const name of Object.values(names)) registry.removeSingleMetric(name)
  }

  return {
    track(memory, trackOptions) {
      if (disposed) {
        throw new MemoryError('closed', 'these metrics were disposed. Call registerMemoryMetrics() again.')
      }
      const probe = probeOf(memory)
      const name = storeOption(trackOptions)
      const current = tracked.get(probe.id)
      if (current !== undefined) {
        throw new RangeError(`this store is already tracked as store ${show(current.labels.store)}`)
      }
      for (const other of tracked.values()) {
        if (other.labels.store === name) {
          throw new RangeError(
            `store ${show(name)} already names another store: give each store its own name`,
          )
        }
      }
      const labels = labelSets.get(name) ?? { store: name }
      labelSets.set(name, labels)
      const zero = (): Totals => ({ saves: 0, messages: 0, bytes: 0, compactions: 0, compactionBytes: 0 })
      // Series start at 0, so a rate() has a first point before the first write.
      for (const counter of [saves, messages, bytes, compactions, compactionBytes]) counter.inc(labels, 0)
      // Zeroes the histogram's series unless it has one already.
      const durations = SaveDurations.forSeries(duration, labels, buckets)
      const entry: Tracked = { probe, labels, totals: zero(), reported: zero(), durations }
      tracked.set(probe.id, entry)
      return () => {
        if (tracked.get(probe.id) !== entry) return
        // What it counted since the last scrape stays in its series.
        for (const [counter, key] of counted) handOver(counter, key, entry)
        durations?.handOver()
        tracked.delete(probe.id)
        pending.remove(labels)
      }
    },
    dispose,
    [Symbol.dispose]: dispose,
  }
}
