/**
 * What a cell cost and when it ran: CPU, wall time, peak heap and bytes of
 * output once it has ended, a ticking elapsed time while it runs.
 */
import type { ComponentChildren } from 'preact'
import type { CellView } from '../../hooks/use-cell-run.ts'
import { formatBytes, formatMs } from '../../format.ts'
import { Elapsed } from '../Elapsed/index.tsx'
import './style.css'

/** @example <UsageBar cell={cell} /> */
export function UsageBar({ cell }: { cell: CellView }) {
  const { usage, createdAt, startedAt, endedAt } = cell
  const items: [string, ComponentChildren][] = []
  if (cell.status === 'running') items.push(['Elapsed', <Elapsed since={startedAt} />])
  if (usage) {
    items.push(
      ['CPU', formatMs(usage.cpuMs)],
      ['Wall', formatMs(usage.wallMs)],
      ['Heap', formatBytes(usage.heapBytes)],
      ['Output', formatBytes(usage.outputBytes)],
    )
  }
  if (createdAt && startedAt) items.push(['Queued', formatMs(Math.max(0, Date.parse(startedAt) - Date.parse(createdAt)))])
  if (endedAt) items.push(['Ended', <time dateTime={endedAt}>{new Date(endedAt).toLocaleTimeString()}</time>])
  if (items.length === 0) return null

  return (
    <dl class="usage-bar" aria-label="Usage">
      {items.map(([term, value]) => (
        <div class="usage-bar__item" key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
