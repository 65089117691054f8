import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { formatMs, formatValue, markdownTable } from './format.js'
import type { RunReport } from './result.js'

/**
 * A full run (all benches, not quick) rewrites the results table of bench/README.md between its
 * markers, so the figures there always come from the last full run and never from a hand.
 */
export function updateReadme(r: RunReport, path: string): boolean {
  if (!existsSync(path)) return false
  const text = readFileSync(path, 'utf8')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a < 0 || b < a) return false
  const rows = r.benches.map((bench) => {
    let result: string
    if (bench.status !== 'ok') {
      result = `${bench.status}: ${bench.reason ?? ''}`
    } else {
      result = bench.rows
        .map((row) => {
          const peers = Object.entries(row.peers)
            .filter(([, v]) => v !== null)
            .map(([name, v]) => `${name} ${formatValue(v, row.unit)}`)
          const parts = [
            row.before === null ? null : `before ${formatValue(row.before, row.unit)}`,
            peers.length > 0 ? peers.join(', ') : null,
          ].filter((p): p is string => p !== null)
          const target =
            row.target === undefined
              ? ''
              : ` (target ${row.target}${row.met === undefined ? '' : row.met ? ' ✓' : ' ✗'})`
          return `${row.operation}: **${formatValue(row.after, row.unit)}**${target}${parts.length > 0 ? `; ${parts.join('; ')}` : ''}`
        })
        .join('<br>')
    }
    return [
      bench.title,
      `[\`${bench.name}.bench.ts\`](${bench.name}.bench.ts)`,
      `\`npm run bench -- ${bench.name}\``,
      result.replace(/\|/g, '\\|'),
    ]
  })
  const table = [
    '',
    `Last full run: ${r.date.slice(0, 16).replace('T', ' ')} UTC, node ${r.node}, ${r.cpus} × ${r.cpuModel}, load average ${r.loadAverage.start} → ${r.loadAverage.end}, ${formatMs(r.durationMs)}.`,
    '',
    markdownTable(['claim', 'file', 'command', 'last result'], rows),
    '',
  ].join('\n')
  writeFileSync(path, `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`)
  return true
}
