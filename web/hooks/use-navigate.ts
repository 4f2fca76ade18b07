/**
 * Moving the app to another address from code (a run shows its cell at
 * `/cells/:id`, Save moves a notebook to its permalink). Links need none of
 * this: the router (preact-iso's LocationProvider, in main.tsx) follows
 * every same-origin link itself, leaving to the browser what it does for a
 * modified or middle click, a download or another target.
 */
import { useLocation } from 'preact-iso'

/**
 * Pushes a history entry for `path` and shows it, unless the app is there
 * already (a second Save adds no entry that Back would only repeat).
 * @example const navigate = useNavigate(); navigate(cellPath(id))
 */
export function useNavigate(): (path: string) => void {
  const { route } = useLocation()
  return (path) => {
    if (path !== location.pathname) route(path)
  }
}
