/**
 * The keys page (`/keys`): the account's keys (GET /api/v1/keys, which for
 * a login lists the account's), a form for a new key, the new key's secret
 * shown once, and Revoke on each key. A login acts as its account, so a key
 * made here is a key of the account (within what its role allows) and
 * outlives the login.
 */
import { useEffect, useState } from 'preact/hooks'
import { accountApi, type CreatedKeyView, type KeyView } from '../../account-api.ts'
import { toApiError, type ApiRequestError } from '../../api.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import { LoginRequired } from '../../components/LoginRequired/index.tsx'
import { refreshMe, useMe } from '../../hooks/use-me.ts'
import { KeyRow } from './key-row.tsx'
import { NewKeyForm } from './new-key-form.tsx'
import { SecretOnce } from './secret-once.tsx'
import './style.css'

/** @example <Route path="/keys" component={KeysPage} /> */
export function KeysPage() {
  const me = useMe()
  const [keys, setKeys] = useState<KeyView[] | null>(null)
  const [created, setCreated] = useState<CreatedKeyView | null>(null)
  const [failure, setFailure] = useState<ApiRequestError | null>(null)
  const loggedIn = me !== null && !me.anonymous

  const reload = () => accountApi.listKeys().then(({ keys }) => setKeys(keys), (e: unknown) => setFailure(toApiError(e)))

  useEffect(() => {
    document.title = 'Keys · cellgate'
    if (loggedIn) void reload()
  }, [loggedIn])

  if (me === null || me.anonymous) return <LoginRequired me={me} title="Keys" pageClass="keys-page" next="/keys" what="see and make your keys" />

  const revoke = async (key: KeyView) => {
    setFailure(null)
    try {
      await accountApi.revokeKey(key.id)
    } catch (e) {
      setFailure(toApiError(e))
    }
    // Revoking the login's own key is logging out.
    if (key.id === me.key.id) await refreshMe()
    else await reload()
  }

  const depth = depths(keys ?? [])
  return (
    <main class="keys-page">
      <h1>Keys</h1>
      <p class="keys-page__intro">
        Keys let programs and pages act for <strong>{me.account.name}</strong> with <code>Authorization: Bearer &lt;key&gt;</code>. A key made
        here belongs to the account, not to this login: it keeps working after you log out, until it expires or you revoke it.
      </p>
      {failure && <ApiErrorMessage error={failure} />}
      {created && <SecretOnce created={created} onDone={() => setCreated(null)} />}
      <NewKeyForm
        scopes={me.key.scopes}
        onCreated={(made) => {
          setCreated(made)
          void reload()
        }}
      />
      <section aria-labelledby="keys-tree-title">
        <h2 id="keys-tree-title">This login's keys</h2>
        {keys === null ? (
          <p>Loading keys…</p>
        ) : (
          <ul class="keys-page__tree" aria-label="Keys">
            {keys.map((key) => (
              <KeyRow key={key.id} keyView={key} depth={depth.get(key.id) ?? 0} isLogin={key.id === me.key.id} onRevoke={revoke} />
            ))}
          </ul>
        )}
      </section>
    </main>
  )
}

/** How deep each key sits below the first (the list comes parents first). */
function depths(keys: KeyView[]): Map<string, number> {
  const depth = new Map<string, number>()
  for (const key of keys) depth.set(key.id, key.parentId === null ? 0 : (depth.get(key.parentId) ?? -1) + 1)
  return depth
}
