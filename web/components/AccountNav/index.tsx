/**
 * The bar above every page that says who is logged in: the account's name,
 * its pages (Mine, Keys) and Log out; or, for a visitor, Log in. Logging
 * out revokes the login on the server and tells the rest of the app
 * (refreshMe), then goes to the start page.
 */
import { useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { accountApi } from '../../account-api.ts'
import { toApiError } from '../../api.ts'
import { refreshMe, useMe } from '../../hooks/use-me.ts'
import { useNavigate } from '../../hooks/use-navigate.ts'
import './style.css'

/** @example <AccountNav /> above the router */
export function AccountNav() {
  const me = useMe()
  const navigate = useNavigate()
  const { path } = useLocation()
  const [failure, setFailure] = useState<string | null>(null)

  const logout = async () => {
    try {
      await accountApi.logout()
      setFailure(null)
    } catch (e) {
      setFailure(toApiError(e).message)
    }
    await refreshMe()
    navigate('/')
  }

  return (
    <nav class="account-nav" aria-label="Account">
      {me && !me.anonymous && (
        <>
          <a href="/mine">Mine</a>
          <a href="/keys">Keys</a>
          <span class="account-nav__who">
            Logged in as <strong>{me.account.name}</strong>
          </span>
          <button type="button" class="account-nav__logout" onClick={() => void logout()}>
            Log out
          </button>
        </>
      )}
      {me?.anonymous && path !== '/login' && <a href={`/login?next=${encodeURIComponent(path)}`}>Log in</a>}
      {failure && <span role="alert" class="account-nav__failure">{failure}</span>}
    </nav>
  )
}
