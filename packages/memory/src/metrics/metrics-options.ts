// The option checks of `registerMemoryMetrics()` and `track()`, and the label values the metrics
// may carry: every value a user or a payload hands over is checked here before it names a metric
// or a series, so memory-metrics.ts only builds and feeds the metrics.
import type { Registry } from 'prom-client'
import type { MemoryErrorCode } from '../errors.js'
import { show } from '../message.js'
import { knownOptions } from '../options.js'
import type { PromClientModule } from './load-prom-client.js'

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** The option names of `registerMemoryMetrics()`. */
export const OPTION_NAMES: ReadonlySet<string> = new Set(['registry', 'prefix', 'buckets', 'client'])
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const STORE_LABEL = /^[A-Za-z0-9_.:-]{1,64}$/

// Every code a store can report, so that a label value always comes from this bounded set (a
// custom backend may throw a MemoryError with a code of its own: it is counted as `other`).
const KNOWN_CODES: Record<MemoryErrorCode, true> = {
  locked: true,
  closed: true,
  io: true,
  corrupt: true,
  'backend-unavailable': true,
  backpressure: true,
  migration: true,
  'too-large': true,
  'duplicate-id': true,
  unsupported: true,
  'metrics-unavailable': true,
  'invalid-input': true,
}

/** The `code` label of an error: one of {@link MemoryErrorCode}, or `other`. */
export function codeLabel(code: unknown): string {
  return typeof code === 'string' && Object.hasOwn(KNOWN_CODES, code) ? code : 'other'
}

/** The `prefix` option: the start of a Prometheus metric name. */
export function prefixOption(value: unknown): string {
  if (value === undefined) return 'taurobot_memory_'
  if (typeof value !== 'string') throw new TypeError(`prefix must be a string, got ${show(value)}`)
  if (!METRIC_NAME.test(`${value}x`)) {
    throw new RangeError(
      `prefix must start a Prometheus metric name (letters, digits, _ and :, not starting with a digit), got ${show(value)}`,
    )
  }
  return value
}

/** The `buckets` option: ascending positive upper bounds, in seconds (a copy). */
export function bucketsOption(value: unknown): number[] {
  if (value === undefined) return DEFAULT_BUCKETS
  if (!Array.isArray(value) || value.length === 0 || value.some((b) => typeof b !== 'number')) {
    throw new TypeError(`buckets must be a non-empty array of numbers, got ${show(value)}`)
  }
  const list = value as number[]
  for (let i = 0; i < list.length; i++) {
    const bound = list[i] as number
    if (!Number.isFinite(bound) || bound <= 0 || (i > 0 && bound <= (list[i - 1] as number))) {
      throw new RangeError(
        `buckets must be finite positive numbers of seconds in ascending order, got ${show(value)}`,
      )
    }
  }
  return list.slice()
}

/** The `client` option: a module with prom-client's metric classes. */
export function clientOption(value: unknown): PromClientModule {
  const client = value as Partial<PromClientModule> | null
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.Counter !== 'function' ||
    typeof client.Gauge !== 'function' ||
    typeof client.Histogram !== 'function'
  ) {
    throw new TypeError(
      `client must be the prom-client module (import * as client from 'prom-client'), got ${show(value)}`,
    )
  }
  return client as PromClientModule
}

/** The `registry` option: a prom-client `Registry`. */
export function registryOption(value: unknown): Registry {
  const registry = value as Partial<Registry> | null
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw new TypeError(
      `registry must be a prom-client Registry (new Registry() from prom-client, or its \`register\`), got ${show(value)}`,
    )
  }
  return registry as Registry
}

/** Throws when `registry` already holds a metric of one of these names. */
export function assertNamesFree(registry: Registry, names: Iterable<string>): void {
  for (const name of names) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new RangeError(
        `the registry already holds a metric named ${name}: dispose() the metrics registered before, or pass another prefix or registry`,
      )
    }
  }
}

/** The `store` label value of `track()`'s options. */
export function storeOption(options: unknown): string {
  const name = knownOptions(options, new Set(['store'])).store
  if (typeof name !== 'string') throw new TypeError(`store must be a string, got ${show(name)}`)
  if (!STORE_LABEL.test(name)) {
    throw new RangeError(
      `store must be 1 to 64 letters, digits or _ . : - (a name such as "chats", never an id), got ${show(name)}`,
    )
  }
  return name
}
