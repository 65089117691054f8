/** Formats a figure with its unit for tables: bytes get KB/MB, times get µs/ms/s. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—'
  if (!Number.isFinite(value)) return String(value)
  switch (unit) {
    case 'B':
      return formatBytes(value)
    case 'ms':
      return formatMs(value)
    case 'count':
      return formatNumber(value)
    default:
      return `${formatNumber(value)} ${unit}`
  }
}

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes)
  if (abs >= 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`
  if (abs >= 1024 * 1024) {
    return `${(bytes / 1024 / 1024).toFixed(abs >= 100 * 1024 * 1024 ? 0 : abs >= 10 * 1024 * 1024 ? 1 : 2)} MB`
  }
  if (abs >= 1024) return `${(bytes / 1024).toFixed(abs >= 100 * 1024 ? 0 : 1)} KB`
  return `${Math.round(bytes)} B`
}

export function formatMs(ms: number): string {
  const abs = Math.abs(ms)
  if (abs >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (abs >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (abs >= 10) return `${ms.toFixed(1)} ms`
  if (abs >= 0.1) return `${ms.toFixed(2)} ms`
  return `${(ms * 1000).toFixed(1)} µs`
}

export function formatNumber(n: number): string {
  const abs = Math.abs(n)
  if (Number.isInteger(n) || abs >= 1000) return Math.round(n).toLocaleString('en-US')
  if (abs >= 10) return n.toFixed(1)
  if (abs >= 1) return n.toFixed(2)
  return n.toPrecision(2)
}

/** Renders rows of cells as a Markdown table; also readable as plain text in a terminal. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  // The same layout Biome's Markdown formatter writes, so generated files pass `biome ci`.
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n')
}
