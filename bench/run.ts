// Runs every bench/*.bench.ts in its own child process (fresh heap, fresh RSS, its own event
// loop), one progress line each, then prints one table and writes bench/results/latest.{json,md}
// and the charts under docs/.
//
//   npm run bench                 all claims
//   npm run bench -- memory       only benches whose name contains "memory"
//   npm run bench -- --quick      fewer samples, same comparisons (a few minutes)
//   npm run bench -- --verbose    also show each bench's own progress output
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatMs } from './lib/format.js'
import { updateReadme } from './lib/readme.js'
import { markdownReport, summaryTable, writeCharts } from './lib/report.js'
import type { BenchResult, RunReport } from './lib/result.js'

const benchDir = dirname(fileURLToPath(import.meta.url))
const resultsDir = join(benchDir, 'results')
const docsDir = join(benchDir, '..', 'docs')

const args = process.argv.slice(2).filter((a) => a !== '--')
const quick = args.includes('--quick')
const verbose = args.includes('--verbose')
const filters = args.filter((a) => !a.startsWith('--'))
const unknown = args.filter((a) => a.startsWith('--') && !['--quick', '--verbose'].includes(a))
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')}: use --quick, --verbose and bench names`)
  process.exit(2)
}

const allFiles = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
const files = allFiles.filter((f) => filters.length === 0 || filters.some((q) => f.includes(q)))
if (files.length === 0) {
  console.error(`no bench matches ${filters.join(', ')}; available: ${allFiles.map(nameOf).join(', ')}`)
  process.exit(2)
}

// Generous ceilings: a bench that hangs is reported as failed, the others still run.
// memory-scale generates and opens stores of up to 20 M messages: minutes, not seconds.
const timeoutMs = (quick ? 240 : 1200) * 1000

const started = performance.now()
const loadAtStart = loadavg()[0] ?? 0
console.log(
  `TauroBot bench${quick ? ' (quick)' : ''}: ${files.length} benchmark${files.length === 1 ? '' : 's'}, node ${process.version}, ${cpus().length} CPUs, ${Math.round(freemem() / 1024 / 1024)} MB free, load average ${loadAtStart.toFixed(1)}`,
)
const results: BenchResult[] = []
for (const [i, file] of files.entries()) {
  const prefix = `[${i + 1}/${files.length}] ${nameOf(file).padEnd(24)}`
  if (process.stdout.isTTY) process.stdout.write(`${prefix} running…`)
  const result = await runOne(file)
  results.push(result)
  const line = `${prefix} ${statusText(result)}`
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${line}\n`)
  else console.log(line)
}

const report: RunReport = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
  loadAverage: { start: round2(loadAtStart), end: round2(loadavg()[0] ?? 0) },
  quick,
  filters,
  durationMs: performance.now() - started,
  benches: results,
}

console.log(`\n${summaryTable(results)}\n`)
// Only a full run replaces the committed results; a run of some benches or a quick run
// goes to bench/results/tmp/ (git-ignored), so it never overwrites figures the READMEs quote.
const fullRun = !quick && filters.length === 0
const outDir = fullRun ? resultsDir : join(resultsDir, 'tmp')
const outName = fullRun ? 'latest' : 'partial'
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, `${outName}.json`), withoutMachinePaths(`${JSON.stringify(report, null, 2)}\n`))
writeFileSync(join(outDir, `${outName}.md`), withoutMachinePaths(markdownReport(report)))
const charts = fullRun ? writeCharts(report, docsDir) : []
const readmeUpdated = fullRun && updateReadme(report, join(benchDir, 'README.md'))
const written = fullRun ? 'bench/results/latest' : 'bench/results/tmp/partial'
console.log(
  `wrote ${written}.json, ${written}.md${charts.map((c) => `, docs/${c}`).join('')}${readmeUpdated ? ', the results table in bench/README.md' : ''} in ${formatMs(report.durationMs)}`,
)
process.exit(results.some((r) => r.status === 'failed') ? 1 : 0)

// Notes quote messages that name scratch files: results are committed, so they name them
// relative to the repository (or the temp folder) instead of by this machine's absolute paths.
function withoutMachinePaths(text: string): string {
  const repoRoot = `${dirname(benchDir)}/`
  const withoutRepo = text.split(JSON.stringify(repoRoot).slice(1, -1)).join('').split(repoRoot).join('')
  // Only where the temp folder starts a path: the bench's own scratch folder, bench/results/tmp/,
  // also holds "/tmp/".
  const temp = `${tmpdir()}/`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return withoutRepo.replace(new RegExp(`(^|[\\s"'(=])${temp}`, 'g'), '$1$TMPDIR/')
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

function nameOf(file: string): string {
  return file.replace(/\.bench\.ts$/, '')
}

function statusText(r: BenchResult): string {
  const time = formatMs(r.durationMs)
  if (r.status === 'ok') {
    const targets = r.rows.filter((row) => row.met !== undefined)
    const missed = targets.filter((row) => row.met === false).length
    const t = targets.length > 0 ? `, targets met ${targets.length - missed}/${targets.length}` : ''
    return `ok ${time} (${r.rows.length} figures${t})`
  }
  if (r.status === 'skipped') return `skipped: ${r.reason}`
  return `FAILED after ${time}: ${r.reason}`
}

function runOne(file: string): Promise<BenchResult> {
  const name = nameOf(file)
  const resultFile = join(tmpdir(), `taurobot-bench-${process.pid}-${name}.json`)
  rmSync(resultFile, { force: true })
  const start = performance.now()
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(benchDir, file), ...(quick ? ['--quick'] : [])],
      {
        cwd: benchDir,
        env: { ...process.env, BENCH_RESULT_FILE: resultFile, BENCH_QUICK: quick ? '1' : '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a timeout also stops the processes it started (browsers, workers).
        detached: true,
      },
    )
    let output = ''
    const collect = (chunk: Buffer) => {
      const text = chunk.toString()
      output = (output + text).slice(-20_000)
      if (verbose) process.stderr.write(text.replace(/^BENCH_RESULT .*$/gm, ''))
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid)
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      // Leftovers (a browser, a server) must not outlive their bench.
      killGroup(child.pid)
      let result: BenchResult | undefined
      if (existsSync(resultFile)) {
        result = JSON.parse(readFileSync(resultFile, 'utf8')) as BenchResult
        rmSync(resultFile, { force: true })
      }
      if (result === undefined || timedOut) {
        const why = timedOut
          ? `timed out after ${formatMs(timeoutMs)}`
          : `exited with ${signal ?? `code ${code}`} without a result`
        result = {
          name,
          title: name,
          claim: '',
          status: 'failed',
          reason: why,
          quick,
          durationMs: performance.now() - start,
          rows: [],
          notes: [],
          notCovered: [],
          charts: [],
        }
      }
      if (result.status === 'failed' && !verbose) {
        process.stderr.write(
          `${output
            .replace(/^BENCH_RESULT .*$/gm, '')
            .trim()
            .split('\n')
            .slice(-25)
            .join('\n')}\n`,
        )
      }
      resolve(result)
    })
  })
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}
