/** A ticking "time so far" for a running cell; the final wall time comes from its usage. */
import { useEffect, useState } from 'preact/hooks'
import { formatMs } from '../../format.ts'

const TICK_MS = 100

/**
 * Counts from `since` (an ISO time) or, when the start time is not known yet,
 * from when this was first shown.
 * @example <Elapsed since={cell.startedAt} />
 */
export function Elapsed({ since }: { since: string | null }) {
  const [shownAt] = useState(() => Date.now())
  const [now, setNow] = useState(shownAt)
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), TICK_MS)
    return () => clearInterval(timer)
  }, [])
  const start = since ? Date.parse(since) : shownAt
  return <time>{formatMs(Math.max(0, now - start))}</time>
}
