/**
 * The login page (`/login`): a name and a password, and "Log in with
 * <provider>" when the server has OpenID Connect configured (GET
 * /api/v1/login/methods). A failed OIDC login comes back here with
 * `?error=<why>`, shown like a wrong password. `?next=/path` is where to go
 * once logged in (default: Mine).
 */
import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { accountApi, oidcLoginUrl, type LoginMethodsView } from '../../account-api.ts'
import { toApiError, type ApiRequestError } from '../../api.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import { refreshMe } from '../../hooks/use-me.ts'
import { useNavigate } from '../../hooks/use-navigate.ts'
import './style.css'

/** Only a path of this app: a link to /login must not send anyone to another site afterwards. */
function nextPath(raw: string | undefined): string {
  return raw !== undefined && /^\/(?![/\\])/.test(raw) ? raw : '/mine'
}

/** @example <Route path="/login" component={LoginPage} /> */
export function LoginPage() {
  const { query } = useLocation()
  const navigate = useNavigate()
  const next = nextPath(query.next)
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [pending, setPending] = useState(false)
  const [methods, setMethods] = useState<LoginMethodsView | null>(null)
  const [failure, setFailure] = useState<ApiRequestError | null>(null)
  const providerFailure = query.error

  useEffect(() => {
    document.title = 'Log in · cellgate'
    accountApi.loginMethods().then(setMethods, (e: unknown) => setFailure(toApiError(e)))
  }, [])

  const submit = async () => {
    if (pending) return
    setPending(true)
    setFailure(null)
    try {
      await accountApi.login({ name, password })
      await refreshMe()
      navigate(next)
    } catch (e) {
      setFailure(toApiError(e))
    } finally {
      setPending(false)
    }
  }

  return (
    <main class="login-page">
      <h1>
        <a href="/">cellgate</a> · Log in
      </h1>
      {providerFailure && (
        <div class="login-page__provider-failure" role="alert">
          {providerFailure}
        </div>
      )}
      <form
        class="login-page__form"
        aria-label="Log in"
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <label class="form-field">
          Name
          <input name="name" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="form-field">
          Password
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" class="login-page__submit" aria-disabled={pending}>
          {pending ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      {failure && <ApiErrorMessage error={failure} />}
      {methods?.oidc && (
        <p class="login-page__oidc">
          {/* A navigation, not a fetch: the browser goes to the provider and comes back logged in. */}
          <a class="login-page__oidc-button" href={oidcLoginUrl(next)}>
            Log in with {providerName(methods.oidc.issuer)}
          </a>
        </p>
      )}
      <p class="login-page__hint">
        The first start of the server logged the password of <code>admin</code> once; look for <q>admin password</q> in its log.
      </p>
    </main>
  )
}

/** The provider as a person knows it: its host. */
function providerName(issuer: string): string {
  try {
    return new URL(issuer).host
  } catch {
    return issuer
  }
}
