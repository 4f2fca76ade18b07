/**
 * One key in the tree: its name, kind, prefix, scopes, resource and
 * expiry, or when it was revoked; Revoke asks first, in place, since
 * revoking takes every key below it too and cannot be undone.
 */
import { useState } from 'preact/hooks'
import type { KeyView } from '../../account-api.ts'

export interface KeyRowProps {
  keyView: KeyView
  /** Levels below its account's root keys. */
  depth: number
  /** The login's own key: revoking it logs out. */
  isLogin: boolean
  onRevoke(key: KeyView): Promise<void>
}

/** @example <KeyRow keyView={key} depth={1} isLogin={false} onRevoke={revoke} /> */
export function KeyRow({ keyView: key, depth, isLogin, onRevoke }: KeyRowProps) {
  const [confirming, setConfirming] = useState(false)
  const [revoking, setRevoking] = useState(false)
  const revoked = key.revokedAt !== null

  const revoke = async () => {
    setRevoking(true)
    await onRevoke(key)
    setRevoking(false)
    setConfirming(false)
  }

  return (
    <li class="key-row" aria-label={`Key ${key.name}`} style={{ marginLeft: `${depth * 1.5}rem` }} data-revoked={revoked}>
      <div class="key-row__head">
        <strong class="key-row__name">{key.name}</strong>
        <code class="key-row__prefix">{key.prefix}…</code>
        <span class="key-row__kind">{isLogin ? 'this login' : key.kind}</span>
        {revoked ? (
          <span class="key-row__revoked">revoked {new Date(key.revokedAt!).toLocaleString()}</span>
        ) : (
          !confirming && (
            <button type="button" class="key-row__revoke" onClick={() => setConfirming(true)}>
              Revoke
            </button>
          )
        )}
      </div>
      <p class="key-row__grant">
        {key.scopes.join(', ') || 'no scopes'}
        {key.resource && <> · only {describeResource(key.resource)}</>}
        {' · '}
        {key.expiresAt ? `expires ${new Date(key.expiresAt).toLocaleString()}` : 'no expiry'}
      </p>
      {confirming && !revoked && (
        <div class="key-row__confirm" role="group" aria-label={`Confirm revoking ${key.name}`}>
          <span>
            {isLogin ? 'Revoke this login (logging out) and every key below it?' : `Revoke ${key.name} and every key below it? This cannot be undone.`}
          </span>
          <button type="button" class="key-row__confirm-yes" aria-disabled={revoking} onClick={() => !revoking && void revoke()}>
            Yes, revoke
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
    </li>
  )
}

function describeResource(resource: NonNullable<KeyView['resource']>): string {
  return resource.kind === 'content' ? `content under ${resource.prefix}` : `${resource.kind} ${resource.id}`
}
