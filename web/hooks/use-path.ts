/**
 * The browser's path as state, for the app's tiny router: `navigate` pushes a
 * history entry, and Back/Forward (popstate) update the path too.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'

/**
 * @example
 * const [path, navigate] = usePath()
 * navigate('/cells/abc')
 */
export function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(() => location.pathname)

  useEffect(() => {
    const onPop = () => setPath(location.pathname)
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])

  const navigate = useCallback((next: string) => {
    if (next === location.pathname) return
    history.pushState(null, '', next)
    setPath(next)
  }, [])

  return [path, navigate]
}
