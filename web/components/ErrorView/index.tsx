/**
 * An error the cell ended with (thrown, timed out, sandbox lost, output limit):
 * its name and message, and the stack when there is one. It is data from the
 * job, shown as text: nothing in it is interpreted as markup.
 */
import { useId } from 'preact/hooks'
import type { CellError } from '../../api.ts'
import './style.css'

/** @example <ErrorView error={{ name: 'TypeError', message: 'x is not a function', stack }} /> */
export function ErrorView({ error }: { error: CellError }) {
  // Unique per instance: a notebook shows many.
  const titleId = useId()
  // A V8 stack starts with "Name: message", which the heading already shows.
  const headline = `${error.name}: ${error.message}`
  const stack = error.stack?.startsWith(headline) ? error.stack.slice(headline.length).replace(/^\n/, '') : error.stack
  return (
    <section class="error-view" aria-labelledby={titleId}>
      <h2 id={titleId} class="error-view__title">
        <span class="error-view__name">{error.name}</span>: {error.message}
      </h2>
      {stack && <pre class="error-view__stack" aria-label="Stack trace">{stack}</pre>}
    </section>
  )
}
