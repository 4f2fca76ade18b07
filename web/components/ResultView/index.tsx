/** The value of the cell's last expression, as the sandbox wrote it (text, like a REPL). */
import { useId } from 'preact/hooks'
import type { CellResult } from '../../api.ts'
import './style.css'

/** @example <ResultView result={{ text: '42' }} /> */
export function ResultView({ result }: { result: CellResult }) {
  // Unique per instance: a notebook shows many.
  const titleId = useId()
  return (
    <section class="result-view" aria-labelledby={titleId}>
      <h2 id={titleId} class="result-view__title">
        Result
      </h2>
      <pre class="result-view__text">{result.text}</pre>
    </section>
  )
}
