import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { BenchResult, ChartSpec, Row } from './result.js'

/** What a bench gets from the harness. */
export interface BenchContext {
  /** `--quick`: fewer samples, same comparisons. */
  quick: boolean
  /** A fresh directory removed after the bench, for stores and fixture files. */
  tmpDir: string
  /** Progress text on stderr; shown by the runner only with `--verbose` or when the bench fails. */
  log(message: string): void
}

export interface BenchOutput {
  rows: Row[]
  notes?: string[]
  charts?: ChartSpec[]
}

export interface BenchDefinition {
  title: string
  /** The claim, in the words of the package issue. */
  claim: string
  /** What this bench does not measure, so nobody reads more into the figures than they say. */
  notCovered: string[]
  /**
   * Checks that what the bench needs from the machine is there (a Redis server, Chromium, a speech
   * engine). Returns the reason to skip, or null.
   */
  ready?(ctx: BenchContext): Promise<string | null>
  run(ctx: BenchContext): Promise<BenchOutput>
}

/** Marks the JSON line a bench prints, so the runner finds it among any other output. */
export const RESULT_MARKER = 'BENCH_RESULT '

/**
 * Runs one bench file's measurement and reports it as JSON. A missing service is a skip with the
 * reason, an exception is a failure with its message; either way the runner gets one result.
 */
export async function runBench(file: string, def: BenchDefinition): Promise<never> {
  const name = basename(file).replace(/\.bench\.ts$/, '')
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'
  const started = performance.now()
  const result: BenchResult = {
    name,
    title: def.title,
    claim: def.claim,
    status: 'ok',
    quick,
    durationMs: 0,
    rows: [],
    notes: [],
    notCovered: def.notCovered,
    charts: [],
  }
  // On the project's disk (gitignored), not a tmpfs: fsync must cost what it costs for users.
  const scratchRoot = join(dirname(file), 'results', 'tmp')
  mkdirSync(scratchRoot, { recursive: true })
  const tmpDir = mkdtempSync(join(scratchRoot, `${name}-`))
  const ctx: BenchContext = {
    quick,
    tmpDir,
    log: (message) => process.stderr.write(`[${name}] ${message}\n`),
  }
  try {
    const notReady = def.ready === undefined ? null : await def.ready(ctx)
    if (notReady !== null) {
      result.status = 'skipped'
      result.reason = notReady
      return finish(result, started, tmpDir)
    }
    const output = await def.run(ctx)
    result.rows = output.rows
    result.notes = output.notes ?? []
    result.charts = output.charts ?? []
  } catch (error) {
    result.status = 'failed'
    result.reason = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  }
  return finish(result, started, tmpDir)
}

function finish(result: BenchResult, started: number, tmpDir: string): never {
  result.durationMs = performance.now() - started
  rmSync(tmpDir, { recursive: true, force: true })
  const json = JSON.stringify(result)
  // The file is the reliable channel (a pipe write may be cut short by exit); stdout is for humans.
  if (process.env.BENCH_RESULT_FILE) writeFileSync(process.env.BENCH_RESULT_FILE, json)
  process.stdout.write(`${RESULT_MARKER}${json}\n`)
  // Exit explicitly: a peer under test may leave handles open, and that must not hang the suite.
  process.exit(result.status === 'failed' ? 1 : 0)
}
