/** Any path the app does not know. */
import './style.css'

export function NotFound() {
  return (
    <main class="not-found">
      <h1>Page not found</h1>
      <p>
        There is nothing at <code>{location.pathname}</code>. <a href="/">Start a new cell</a>.
      </p>
    </main>
  )
}
