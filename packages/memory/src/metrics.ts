/**
 * Prometheus metrics of `@taurobot/memory`, in their own entry so that only the bots that export
 * metrics need the optional `prom-client` peer dependency. The counts come from the package's
 * diagnostics channels (see `memoryChannels`).
 *
 * @packageDocumentation
 * @module @taurobot/memory/metrics
 */

export type { PromClientModule } from './metrics/load-prom-client.js'
export type { MemoryMetrics, MemoryMetricsOptions, TrackOptions } from './metrics/memory-metrics.js'
export { registerMemoryMetrics } from './metrics/memory-metrics.js'
