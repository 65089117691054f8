import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'

/** Percentiles of a latency distribution, in milliseconds. */
export interface LatencySummary {
  /** Number of samples. */
  count: number
  /** Arithmetic mean. */
  mean: number
  /** Median. */
  p50: number
  /** 90th percentile. */
  p90: number
  /** 99th percentile. */
  p99: number
  /** Largest sample. */
  max: number
}

/** A snapshot of the shared pool, from {@link VoicePool.stats}. */
export interface VoicePoolStats {
  /** Worker threads alive now. */
  threads: number
  /** The thread limit. */
  maxThreads: number
  /** Tasks waiting for a thread. */
  queued: number
  /** Tasks running on a thread. */
  running: number
  /** Tasks that produced audio. */
  completed: number
  /** Tasks that failed (engine error, crash, out of memory, queue full, pool closed...). */
  failed: number
  /** Tasks aborted or timed out. */
  cancelled: number
  /** Share of thread time spent running tasks since the pool started, 0..1. */
  utilization: number
  /** Time from acceptance to the start of work. */
  waitTime: LatencySummary
  /** Time a thread spent on a task, engine loading included. */
  runTime: LatencySummary
  /** Engine loading on worker threads: how often, the last and the slowest time in ms. */
  engineInitMs: { count: number; last: number | undefined; max: number | undefined }
  /** True while the queue is at least half full after having been full: wait for `drain()`. */
  needsDrain: boolean
  /** True after `close()` or `destroy()`. */
  closed: boolean
}

/** A latency distribution in milliseconds, kept in a histogram of microseconds. */
export class Latency {
  readonly #histogram: RecordableHistogram = createHistogram()

  record(milliseconds: number): void {
    // The histogram takes positive integers only: sub-microsecond samples count as one.
    this.#histogram.record(Math.max(1, Math.round(milliseconds * 1000)))
  }

  summary(): LatencySummary {
    const histogram = this.#histogram
    const count = histogram.count
    if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    const ms = (microseconds: number) => Math.round(microseconds) / 1000
    return {
      count,
      mean: ms(histogram.mean),
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
    }
  }
}
