/** The value of the cell's last expression, as the sandbox wrote it (text, like a REPL). */
import type { CellResult } from '../../api.ts'
import './style.css'

/** @example <ResultView result={{ text: '42' }} /> */
export function ResultView({ result }: { result: CellResult }) {
  return (
    <section class="result-view" aria-labelledby="result-view-title">
      <h2 id="result-view-title" class="result-view__title">
        Result
      </h2>
      <pre class="result-view__text">{result.text}</pre>
    </section>
  )
}
