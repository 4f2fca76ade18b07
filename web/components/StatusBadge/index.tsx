/** A cell's status as a coloured badge; the page puts it in a live region so changes are announced. */
import type { JobStatus } from '../../api.ts'
import './style.css'

const LABELS: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  error: 'Error',
  timeout: 'Timed out',
  cancelled: 'Cancelled',
  lost: 'Lost',
}

/** @example <StatusBadge status="running" /> */
export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span class={`status-badge status-badge--${status}`} data-status={status}>
      <span class="visually-hidden">Status: </span>
      {LABELS[status]}
    </span>
  )
}
