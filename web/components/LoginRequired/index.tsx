/**
 * What a page that only an account can use shows to anyone else: nothing
 * while the page does not know yet who it is (so a logged-in person never
 * sees "Log in" flash by), then a link to the login page that comes back here.
 */
import type { MeState } from '../../hooks/use-me.ts'

export interface LoginRequiredProps {
  me: MeState
  /** The page's heading and class, so it looks like the page it stands for. */
  title: string
  pageClass: string
  /** The page's path, to come back to once logged in. */
  next: string
  /** What logging in lets the person do here, after "Log in to". */
  what: string
}

/** @example if (me === null || me.anonymous) return <LoginRequired me={me} title="Keys" pageClass="keys-page" next="/keys" what="see and make your keys" /> */
export function LoginRequired({ me, title, pageClass, next, what }: LoginRequiredProps) {
  if (me === null) return <main class={pageClass} aria-busy="true" />
  return (
    <main class={pageClass}>
      <h1>{title}</h1>
      <p>
        <a href={`/login?next=${encodeURIComponent(next)}`}>Log in</a> to {what}.
      </p>
    </main>
  )
}
