/** How the page writes durations and sizes: short, with units, no locale surprises. */

/** @example formatMs(12.4) === '12 ms'; formatMs(1530) === '1.53 s' */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** @example formatBytes(512) === '512 B'; formatBytes(3_500_000) === '3.3 MB' */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}
