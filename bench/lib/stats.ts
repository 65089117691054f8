/** Order statistics over repeated samples; the bench reports medians and spread, never means alone. */
export interface Summary {
  n: number
  min: number
  p25: number
  median: number
  p75: number
  p99: number
  max: number
}

/** Linear-interpolated percentile of already sorted values, `p` in 0..100. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  const a = sorted[low] as number
  const b = sorted[high] as number
  return a + (b - a) * (rank - low)
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y)
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p25: percentileSorted(sorted, 25),
    median: percentileSorted(sorted, 50),
    p75: percentileSorted(sorted, 75),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  }
}

export function median(values: readonly number[]): number {
  return summarize(values).median
}

/** "IQR ±4% over 9 runs": half the interquartile range relative to the median. */
export function spreadText(values: readonly number[], what = 'runs'): string {
  const s = summarize(values)
  if (s.n < 2 || s.median === 0) return `${s.n} ${what}`
  const pct = ((s.p75 - s.p25) / 2 / Math.abs(s.median)) * 100
  return `IQR ±${pct < 10 ? pct.toFixed(1) : Math.round(pct)}% over ${s.n} ${what}`
}

/** "min–max" over repeated samples, formatted with the given formatter. */
export function rangeText(values: readonly number[], format: (v: number) => string): string {
  const s = summarize(values)
  return `${format(s.min)}–${format(s.max)}`
}
