/** Any path the app does not know. */
import { useLocation } from 'preact-iso'
import './style.css'

/** @example <Route default component={NotFound} /> */
export function NotFound() {
  const { path } = useLocation()
  return (
    <main class="not-found">
      <h1>Page not found</h1>
      <p>
        There is nothing at <code>{path}</code>. <a href="/">Start a new cell</a>.
      </p>
    </main>
  )
}
