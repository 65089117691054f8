import { formatValue } from './format.js'
import type { ChartSpec } from './result.js'

const COLORS = ['#d1495b', '#edae49', '#00798c', '#30638e', '#6a4c93', '#8d99ae']
const WIDTH = 760
const PANEL_HEIGHT = 270
const MARGIN = { left: 92, right: 20, top: 34, bottom: 46 }

/**
 * Renders grouped bar charts (one panel per measured quantity) as a standalone SVG. Values are
 * drawn from the results as they are; a missing value leaves a gap marked "n/a".
 */
export function renderChart(spec: ChartSpec, caption: string): string {
  const titleHeight = 44
  const legendHeight = 28
  const height = titleHeight + legendHeight + spec.panels.length * PANEL_HEIGHT + 24
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="16" font-weight="600">${esc(spec.title)}</text>`,
    `<text x="${WIDTH / 2}" y="38" text-anchor="middle" fill="#555">${esc(caption)}</text>`,
  )
  const seriesNames = spec.panels[0]?.series.map((s) => s.name) ?? []
  let lx = MARGIN.left
  seriesNames.forEach((name, i) => {
    parts.push(
      `<rect x="${lx}" y="${titleHeight + 6}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${lx + 16}" y="${titleHeight + 16}">${esc(name)}</text>`,
    )
    lx += 28 + name.length * 7
  })
  spec.panels.forEach((panel, p) => {
    const top = titleHeight + legendHeight + p * PANEL_HEIGHT
    parts.push(panelSvg(spec, panel, top))
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

function panelSvg(spec: ChartSpec, panel: ChartSpec['panels'][number], top: number): string {
  const plotLeft = MARGIN.left
  const plotRight = WIDTH - MARGIN.right
  const plotTop = top + MARGIN.top - 20
  const plotBottom = top + PANEL_HEIGHT - MARGIN.bottom
  const values = panel.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0)
  const out: string[] = []
  if (values.length === 0) return ''
  let scale: (v: number) => number
  let ticks: number[]
  if (panel.logScale) {
    // Decades; for bytes, decades of KB/MB/GB so the tick labels are round (1.0 KB, not 977 B).
    const decades: number[] = []
    for (let k = 0; k <= 4; k++) {
      for (const m of [1, 10, 100]) decades.push(m * (panel.unit === 'B' ? 1024 : 1000) ** k)
    }
    const min = Math.min(...values)
    const max = Math.max(...values)
    const lo = [...decades].reverse().find((d) => d <= min) ?? 1
    const hi = decades.find((d) => d >= max) ?? max
    const span = Math.log10(hi) - Math.log10(lo) || 1
    scale = (v) =>
      plotBottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * (plotBottom - plotTop)
    ticks = decades.filter((d) => d >= lo && d <= hi)
  } else {
    const max = Math.max(...values)
    const base = panel.unit === 'B' ? 1024 ** Math.max(0, Math.floor(Math.log(max) / Math.log(1024))) : 1
    const hi = niceCeil(max / base) * base
    scale = (v) => plotBottom - (v / hi) * (plotBottom - plotTop)
    ticks = [0, hi / 4, hi / 2, (hi * 3) / 4, hi]
  }
  for (const t of ticks) {
    const y = scale(t)
    out.push(
      `<line x1="${plotLeft}" x2="${plotRight}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`,
      `<text x="${plotLeft - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(formatValue(t, panel.unit))}</text>`,
    )
  }
  out.push(
    `<line x1="${plotLeft}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}" stroke="#333"/>`,
    `<text transform="translate(16 ${((plotTop + plotBottom) / 2).toFixed(1)}) rotate(-90)" text-anchor="middle" fill="#333">${esc(panel.yLabel)}${panel.logScale ? ' (log scale)' : ''}</text>`,
    `<text x="${(plotLeft + plotRight) / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="#333">${esc(spec.xLabel)}</text>`,
  )
  const groupWidth = (plotRight - plotLeft) / spec.categories.length
  const barWidth = Math.min(36, (groupWidth * 0.8) / Math.max(1, panel.series.length))
  spec.categories.forEach((category, c) => {
    const groupLeft = plotLeft + c * groupWidth + (groupWidth - barWidth * panel.series.length) / 2
    out.push(
      `<text x="${(plotLeft + (c + 0.5) * groupWidth).toFixed(1)}" y="${plotBottom + 16}" text-anchor="middle">${esc(category)}</text>`,
    )
    panel.series.forEach((series, s) => {
      const x = groupLeft + s * barWidth
      const v = series.values[c] ?? null
      const color = COLORS[s % COLORS.length]
      if (v === null || !(v > 0)) {
        out.push(
          `<text x="${(x + barWidth / 2).toFixed(1)}" y="${plotBottom - 4}" text-anchor="middle" font-size="9" fill="#888">n/a</text>`,
        )
        return
      }
      const y = scale(v)
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotBottom - y).toFixed(1)}" fill="${color}"><title>${esc(`${series.name}, ${category}: ${formatValue(v, panel.unit)}`)}</title></rect>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#222">${esc(formatValue(v, panel.unit))}</text>`,
      )
    })
  })
  return out.join('\n')
}

function niceCeil(v: number): number {
  if (v <= 0) return 1
  const exp = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp
  return 10 * exp
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
