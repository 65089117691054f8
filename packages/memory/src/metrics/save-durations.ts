// A tracked store's write durations, counted into its own buckets on each write and handed to the
// prom-client histogram at scrape time. Histogram.observe() hashes the label set and walks the
// buckets on every call (about 0.35 µs), a large share of an in-process add(); counting here costs
// a few nanoseconds, and the histogram's exposition stays what observe() would have made of it.
//
// prom-client (15.x) has no public way to add many observations at once, so the hand-over relies
// on one internal contract of its Histogram, checked by `seriesOf` before any write is counted this
// way: `hashMap` holds one object per label set, `{ labels, bucketValues, sum, count }`, where
// `labels` is the object given to zero(), `bucketValues[bound]` counts the observations of that
// bucket alone (the exposition makes them cumulative), `count` counts them all (the +Inf bucket)
// and `sum` adds them up. observe() updates exactly these fields, and get() reads them. A
// prom-client that keeps its series otherwise fails the check, and the exporter then calls
// observe() on every write as before. The tests compare the exposition with observe()'s.
import type { Histogram } from 'prom-client'

/** One label set's values inside a prom-client Histogram (see the contract above). */
interface HistogramSeries {
  readonly labels: unknown
  readonly bucketValues: Record<string, number>
  sum: number
  count: number
}

function isSeries(value: unknown, bounds: readonly number[]): value is HistogramSeries {
  if (typeof value !== 'object' || value === null) return false
  const series = value as Partial<HistogramSeries>
  const buckets = series.bucketValues
  return (
    typeof series.sum === 'number' &&
    typeof series.count === 'number' &&
    typeof buckets === 'object' &&
    buckets !== null &&
    bounds.every((bound) => typeof buckets[String(bound)] === 'number')
  )
}

/** The series of `histogram` made for the very object `labels`, if its layout is the known one. */
function seriesOf(
  histogram: Histogram<string>,
  labels: object,
  bounds: readonly number[],
): HistogramSeries | undefined {
  const map = (histogram as unknown as { hashMap?: unknown }).hashMap
  if (typeof map !== 'object' || map === null) return undefined
  for (const value of Object.values(map)) {
    if ((value as { labels?: unknown } | null)?.labels === labels && isSeries(value, bounds)) return value
  }
  return undefined
}

/** The durations of one tracked store's writes; see the contract at the top of this file. */
export class SaveDurations {
  /** Writes per bucket since the last hand-over; the last slot counts those above every bound. */
  private readonly waiting: Float64Array
  /**
   * Every duration, added in write order to the series' sum as it was at track(), as observe()
   * adds them to the series, so the sum handed over is the very number observe() would give.
   */
  private sum: number
  /** `sum` as it was at the last hand-over. */
  private handedSum: number
  /** The durations since the last hand-over, added from 0: what a series reset since adds up to. */
  private sinceHandOver = 0

  private constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
    sum: number,
  ) {
    this.waiting = new Float64Array(bounds.length + 1)
    this.sum = sum
    this.handedSum = sum
  }

  /**
   * Counts for the series `labels` of `histogram`, made by `histogram.zero(labels)` if it has
   * none (a store tracked again under the same label object keeps its series, as its counters
   * keep theirs); `undefined` when this prom-client keeps its series in another layout (then
   * observe each write).
   */
  static forSeries(
    histogram: Histogram<string>,
    labels: Record<string, string>,
    bounds: readonly number[],
  ): SaveDurations | undefined {
    let series = seriesOf(histogram, labels, bounds)
    if (series === undefined) {
      histogram.zero(labels)
      series = seriesOf(histogram, labels, bounds)
    }
    if (series === undefined) return undefined
    return new SaveDurations(histogram, labels, bounds, series.sum)
  }

  /** Counts one write of `seconds` (finite, not negative), in the bucket observe() would choose. */
  record(seconds: number): void {
    const bounds = this.bounds
    let bucket = 0
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++
    this.waiting[bucket] = (this.waiting[bucket] as number) + 1
    this.sum += seconds
    this.sinceHandOver += seconds
  }

  /**
   * Adds the writes counted since the last hand-over to the histogram's series, once: after it
   * they are the series' and no longer waiting. A series removed since (registry.resetMetrics())
   * is made again by zero(), as the next observe() would.
   */
  handOver(): void {
    let writes = 0
    for (const count of this.waiting) writes += count
    if (writes === 0) return
    let series = seriesOf(this.histogram, this.labels, this.bounds)
    if (series === undefined) {
      this.histogram.zero(this.labels)
      series = seriesOf(this.histogram, this.labels, this.bounds)
      // Checked at track(): cannot happen with the same prom-client. Kept waiting, not lost.
      if (series === undefined) return
    }
    const bounds = this.bounds
    for (let bucket = 0; bucket < bounds.length; bucket++) {
      const count = this.waiting[bucket] as number
      if (count === 0) continue
      const key = String(bounds[bucket])
      series.bucketValues[key] = (series.bucketValues[key] as number) + count
    }
    series.count += writes
    // Unchanged since the last hand-over: the running sum is exactly observe()'s. Otherwise (a
    // reset series) add what was counted since, added up from 0 as observe() does after a reset
    // (the running sum less the last one handed over would lose the last digits), and go on from
    // the series' sum.
    if (series.sum !== this.handedSum) {
      series.sum += this.sinceHandOver
      this.sum = series.sum
    } else series.sum = this.sum
    this.handedSum = this.sum
    this.sinceHandOver = 0
    this.waiting.fill(0)
  }
}
