import { formatValue } from './format.js'

/** Which direction is good for a figure: fewer bytes, or more messages per second. */
export type Better = 'lower' | 'higher'

/** One measured figure, compared with the naive version ("before") and with peers. */
export interface Row {
  operation: string
  unit: string
  better: Better
  /** The naive version the project started from (the Python bot's behaviour, ported). */
  before: number | null
  /** This project's packages. */
  after: number | null
  /** What users would pick instead, measured in the same run. */
  peers: Record<string, number | null>
  /** `before` divided by `after` (or the inverse when higher is better), as text like "12.3×". */
  improvement: string | null
  /** The peer the improvement is computed against, when there is no "before". */
  versus?: string
  /** How much the repeated samples of `after` vary, e.g. "IQR ±4% over 9 runs". */
  spread?: string
  /** The target stated in the package issue, e.g. "≤ 20". */
  target?: string
  /** Whether `after` meets `target`; absent when there is no numeric target. */
  met?: boolean
}

/** A chart the runner renders to `docs/<file>` as SVG. */
export interface ChartSpec {
  file: string
  title: string
  xLabel: string
  categories: string[]
  panels: Array<{
    yLabel: string
    unit: string
    logScale: boolean
    series: Array<{ name: string; values: Array<number | null> }>
  }>
}

export type BenchStatus = 'ok' | 'skipped' | 'failed'

/** What each `*.bench.ts` file prints (as one JSON line) and writes for the runner. */
export interface BenchResult {
  name: string
  title: string
  claim: string
  status: BenchStatus
  reason?: string
  quick: boolean
  durationMs: number
  rows: Row[]
  notes: string[]
  notCovered: string[]
  charts: ChartSpec[]
}

/** Everything one `npm run bench` produced, with the machine it ran on. */
export interface RunReport {
  date: string
  node: string
  platform: string
  cpus: number
  cpuModel: string
  totalMemoryMb: number
  /** 1-minute load average when the run started and when it ended: how busy the machine was. */
  loadAverage: { start: number; end: number }
  quick: boolean
  filters: string[]
  durationMs: number
  benches: BenchResult[]
}

/**
 * Builds a row and computes the improvement from the numbers, so no figure is ever typed in by hand.
 */
export function row(input: {
  operation: string
  unit: string
  better: Better
  before?: number | null
  after: number | null
  peers?: Record<string, number | null>
  spread?: string
  target?: { op: '<=' | '>=' | '=='; value: number }
  /** Compute the improvement against this peer instead of `before`. */
  versus?: string
}): Row {
  const before = input.before ?? null
  const after = input.after
  const out: Row = {
    operation: input.operation,
    unit: input.unit,
    better: input.better,
    before,
    after,
    peers: input.peers ?? {},
    improvement: improvement(
      input.versus === undefined ? before : (input.peers?.[input.versus] ?? null),
      after,
      input.better,
    ),
  }
  if (input.versus !== undefined) out.versus = input.versus
  if (input.spread !== undefined) out.spread = input.spread
  if (input.target !== undefined) {
    const { op, value } = input.target
    out.target = `${op === '<=' ? '≤' : op === '>=' ? '≥' : '='} ${formatValue(value, input.unit)}`
    if (after !== null && Number.isFinite(after)) {
      out.met = op === '<=' ? after <= value : op === '>=' ? after >= value : after === value
    }
  }
  return out
}

/** "12.3×" when `after` is better than `before` by that factor, "0.8×" when it is worse. */
export function improvement(before: number | null, after: number | null, better: Better): string | null {
  if (before === null || after === null || !Number.isFinite(before) || !Number.isFinite(after)) return null
  if (before === 0 && after === 0) return '1×'
  const factor = better === 'lower' ? before / after : after / before
  if (!Number.isFinite(factor)) return after === 0 && better === 'lower' ? `∞ (${before} → 0)` : null
  return `${factor >= 100 ? Math.round(factor) : factor >= 10 ? factor.toFixed(1) : factor.toFixed(2)}×`
}
