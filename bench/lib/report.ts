// Turns a run's results into what people read: the summary table printed at the end, the
// Markdown report under bench/results/ and the SVG charts under docs/.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatMs, formatValue, markdownTable } from './format.js'
import type { BenchResult, RunReport } from './result.js'
import { renderChart } from './svg.js'

function improvementText(r: BenchResult['rows'][number]): string {
  if (r.improvement === null) return ''
  return r.versus === undefined ? r.improvement : `${r.improvement} vs ${r.versus.split(' ')[0]}`
}

function peerText(peers: Record<string, number | null>, unit: string): string {
  return Object.entries(peers)
    .map(([name, v]) => `${name} ${formatValue(v, unit)}`)
    .join('; ')
}

export function summaryTable(benches: BenchResult[]): string {
  const rows: string[][] = []
  for (const b of benches) {
    if (b.status !== 'ok') {
      rows.push([`${b.name}: ${b.status}`, '', '', '', b.reason ?? '', ''])
      continue
    }
    for (const r of b.rows) {
      rows.push([
        `${b.name}: ${r.operation}`,
        formatValue(r.before, r.unit),
        formatValue(r.after, r.unit),
        improvementText(r),
        peerText(r.peers, r.unit),
        r.target === undefined ? '' : `${r.target}${r.met === undefined ? '' : r.met ? ' ✓' : ' ✗'}`,
      ])
    }
  }
  return markdownTable(['operation', 'before', 'after', 'improvement', 'peers', 'target'], rows)
}

export function markdownReport(r: RunReport): string {
  const lines: string[] = [
    `# Bench results${r.quick ? ' (quick run)' : ''}`,
    '',
    `${r.date} · node ${r.node} · ${r.platform} · ${r.cpus} × ${r.cpuModel} · ${r.totalMemoryMb} MB RAM · load average ${r.loadAverage.start} at start, ${r.loadAverage.end} at end · ${formatMs(r.durationMs)} in total${r.filters.length > 0 ? ` · only: ${r.filters.join(', ')}` : ''}`,
    '',
    'before = the Python bot’s behaviour ported to TypeScript; after = the @taurobot packages; peers = what users',
    'would pick instead. Every row was measured side by side in one process run; medians unless stated.',
    '',
    summaryTable(r.benches),
    '',
  ]
  for (const b of r.benches) {
    lines.push(`## ${b.name}: ${b.title}`, '', `Claim: ${b.claim}`, '')
    if (b.status !== 'ok') {
      lines.push(`**${b.status}**: ${b.reason ?? ''}`, '')
      continue
    }
    const peerNames = [...new Set(b.rows.flatMap((row) => Object.keys(row.peers)))]
    lines.push(
      markdownTable(
        ['operation', 'before', 'after', 'improvement', ...peerNames, 'target', 'spread'],
        b.rows.map((row) => [
          row.operation,
          formatValue(row.before, row.unit),
          formatValue(row.after, row.unit),
          improvementText(row),
          ...peerNames.map((p) => (p in row.peers ? formatValue(row.peers[p] ?? null, row.unit) : '')),
          row.target === undefined
            ? ''
            : `${row.target}${row.met === undefined ? '' : row.met ? ' ✓' : ' ✗'}`,
          row.spread ?? '',
        ]),
      ),
      '',
    )
    if (b.notes.length > 0) lines.push('Notes:', '', ...b.notes.map((n) => `- ${n}`), '')
    if (b.notCovered.length > 0) lines.push('Not covered:', '', ...b.notCovered.map((n) => `- ${n}`), '')
  }
  return `${lines.join('\n')}\n`
}

export function writeCharts(r: RunReport, docsDir: string): string[] {
  const written: string[] = []
  for (const b of r.benches) {
    for (const chart of b.charts) {
      const caption = `${r.quick ? 'quick run, ' : ''}${r.date.slice(0, 10)}, node ${r.node}, ${r.cpus} CPUs (npm run bench -- ${b.name})`
      mkdirSync(docsDir, { recursive: true })
      writeFileSync(join(docsDir, chart.file), renderChart(chart, caption))
      written.push(chart.file)
    }
  }
  return written
}
