/**
 * Line charts as inline SVG strings for the HTML report: no library, no
 * network, nothing to load. Axes with round ticks, a log2 or linear x axis,
 * a legend, and optional shaded bands (the phases of the memory chart).
 */

export interface Series {
  name: string
  points: readonly (readonly [number, number])[]
}

export interface Band {
  from: number
  to: number
  label: string
}

export interface ChartOptions {
  title: string
  xLabel: string
  yLabel: string
  series: readonly Series[]
  /** log2 suits concurrency 1, 8, 32, 128. */
  xScale?: 'linear' | 'log2'
  bands?: readonly Band[]
  width?: number
  height?: number
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']
const MARGIN = { top: 28, right: 190, bottom: 44, left: 64 }

/**
 * @example
 *   const svg = lineChart({ title: 'cells/s', xLabel: 'concurrency', yLabel: 'cells/s', xScale: 'log2',
 *                           series: [{ name: 'trivial', points: [[1, 400], [32, 1200]] }] })
 */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 720
  const height = options.height ?? 320
  const plotW = width - MARGIN.left - MARGIN.right
  const plotH = height - MARGIN.top - MARGIN.bottom
  const log = options.xScale === 'log2'
  const fx = (x: number) => (log ? Math.log2(x) : x)
  const points = options.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const xs = points.map(([x]) => fx(x))
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1]
  const yTicks = niceTicks(Math.max(0, ...points.map(([, y]) => y)))
  const yMax = yTicks[yTicks.length - 1]!
  const px = (x: number) => MARGIN.left + (x1 === x0 ? plotW / 2 : ((fx(x) - x0) / (x1 - x0)) * plotW)
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH

  const parts: string[] = []
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(options.title)}</text>`)
  for (const [i, band] of (options.bands ?? []).entries()) {
    const [a, b] = [px(band.from), px(band.to)]
    parts.push(`<rect x="${a.toFixed(1)}" y="${MARGIN.top}" width="${Math.max(0, b - a).toFixed(1)}" height="${plotH}" fill="${i % 2 ? '#f4f4f4' : '#e8eef7'}"><title>${esc(band.label)}</title></rect>`)
  }
  for (const y of yTicks) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`)
    parts.push(`<text x="${MARGIN.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${formatTick(y)}</text>`)
  }
  for (const x of xTickValues(options.series, log, x0, x1)) {
    parts.push(`<text x="${px(x).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(x)}</text>`)
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`)
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${esc(options.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`)
  for (const [i, s] of options.series.entries()) {
    const color = COLORS[i % COLORS.length]
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    const path = valid.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ')
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`)
    if (valid.length <= 16) {
      for (const [x, y] of valid) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${esc(s.name)}: ${formatTick(y)} at ${formatTick(x)}</title></circle>`)
    }
    const ly = MARGIN.top + 6 + i * 18
    parts.push(`<rect x="${MARGIN.left + plotW + 12}" y="${ly}" width="12" height="4" fill="${color}"/>`)
    parts.push(`<text x="${MARGIN.left + plotW + 30}" y="${ly + 6}">${esc(s.name)}</text>`)
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`
}

/** 0 and four to six round steps up to at least max. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1]
  const rough = max / 5
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!
  const ticks = [0]
  while (ticks[ticks.length - 1]! < max) ticks.push(round(ticks.length * step))
  return ticks
}

/** On a log2 axis, the x values the data has (concurrency levels); on a linear one, round steps. */
function xTickValues(series: readonly Series[], log: boolean, x0: number, x1: number): number[] {
  if (log) return [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b)
  return niceTicks(x1).filter((x) => x >= x0)
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1000 ? `${round(value / 1000)}k` : String(round(value))
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

/** Text in SVG/HTML. */
export function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}
