/**
 * The form for a new sub-key: a name, the scopes it gets (checkboxes, only
 * those the login has, since a sub-key can only narrow), what it is
 * restricted to (nothing, one notebook, one session, or content under a
 * path prefix) and when it expires. What the server refuses (a window
 * past the login's, a bad id) is shown as it says it.
 */
import { useState } from 'preact/hooks'
import { accountApi, type CreatedKeyView, type KeyRequest } from '../../account-api.ts'
import { toApiError, type ApiRequestError } from '../../api.ts'
import { ApiErrorMessage } from '../../components/ApiErrorMessage/index.tsx'
import type { Scope } from '../../../protocol/scopes.ts'

type ResourceKind = 'none' | 'notebook' | 'session' | 'content'

/** Expiry choices, in hours from now; `login`: the login's own (the dimension is left out, so it is the parent's). */
const EXPIRIES = [
  ['login', 'When this login ends'],
  ['1', 'In 1 hour'],
  ['24', 'In 1 day'],
  ['72', 'In 3 days'],
] as const

export interface NewKeyFormProps {
  /** What the login's key may do: the most a sub-key may get. */
  scopes: Scope[]
  onCreated(made: CreatedKeyView): void
}

/** @example <NewKeyForm scopes={me.key.scopes} onCreated={setCreated} /> */
export function NewKeyForm({ scopes, onCreated }: NewKeyFormProps) {
  const [name, setName] = useState('')
  const [chosen, setChosen] = useState<Set<Scope>>(() => new Set(scopes.filter((s) => s === 'cells:run')))
  const [resourceKind, setResourceKind] = useState<ResourceKind>('none')
  const [resourceValue, setResourceValue] = useState('')
  const [expiry, setExpiry] = useState<(typeof EXPIRIES)[number][0]>('login')
  const [pending, setPending] = useState(false)
  const [failure, setFailure] = useState<ApiRequestError | null>(null)

  const toggle = (scope: Scope, on: boolean) => setChosen((s) => {
    const next = new Set(s)
    if (on) next.add(scope)
    else next.delete(scope)
    return next
  })

  const submit = async () => {
    if (pending) return
    setPending(true)
    setFailure(null)
    try {
      const made = await accountApi.createKey(request())
      setName('')
      onCreated(made)
    } catch (e) {
      setFailure(toApiError(e))
    } finally {
      setPending(false)
    }
  }

  const request = (): KeyRequest => ({
    name: name.trim(),
    scopes: scopes.filter((s) => chosen.has(s)),
    ...(resourceKind === 'content' && { resource: { kind: 'content', prefix: resourceValue.trim() } }),
    ...((resourceKind === 'notebook' || resourceKind === 'session') && { resource: { kind: resourceKind, id: resourceValue.trim() } }),
    ...(expiry !== 'login' && { expiresAt: new Date(Date.now() + Number(expiry) * 3_600_000).toISOString() }),
  })

  return (
    <form
      class="new-key"
      aria-label="New key"
      onSubmit={(e) => {
        e.preventDefault()
        void submit()
      }}
    >
      <h2>New key</h2>
      <label class="form-field">
        Name
        <input name="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <fieldset class="new-key__scopes">
        <legend>Scopes</legend>
        {scopes.map((scope) => (
          <label key={scope}>
            <input type="checkbox" checked={chosen.has(scope)} onChange={(e) => toggle(scope, e.currentTarget.checked)} />
            <code>{scope}</code>
          </label>
        ))}
      </fieldset>
      <div class="new-key__row">
        <label class="form-field">
          Restricted to
          <select value={resourceKind} onChange={(e) => setResourceKind(e.currentTarget.value as ResourceKind)}>
            <option value="none">nothing in particular</option>
            <option value="notebook">one notebook</option>
            <option value="session">one session</option>
            <option value="content">content under a path</option>
          </select>
        </label>
        {resourceKind !== 'none' && (
          <label class="form-field">
            {resourceKind === 'content' ? 'Path prefix' : `The ${resourceKind}'s id`}
            <input
              name="resource"
              required
              placeholder={resourceKind === 'content' ? '/reports/2026' : ''}
              value={resourceValue}
              onInput={(e) => setResourceValue(e.currentTarget.value)}
            />
          </label>
        )}
        <label class="form-field">
          Expires
          <select value={expiry} onChange={(e) => setExpiry(e.currentTarget.value as typeof expiry)}>
            {EXPIRIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button type="submit" class="new-key__submit" aria-disabled={pending}>
        {pending ? 'Making the key…' : 'Make the key'}
      </button>
      {failure && <ApiErrorMessage error={failure} />}
    </form>
  )
}
