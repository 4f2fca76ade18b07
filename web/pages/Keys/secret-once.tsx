/**
 * A new key's secret, the one time it exists outside its holder's hands:
 * shown with a copy button and a plain warning, until the person says they
 * have it. The server keeps only its hash, so it cannot be shown again.
 */
import { useState } from 'preact/hooks'
import type { CreatedKeyView } from '../../account-api.ts'

export interface SecretOnceProps {
  created: CreatedKeyView
  onDone(): void
}

/** @example <SecretOnce created={made} onDone={() => setCreated(null)} /> */
export function SecretOnce({ created, onDone }: SecretOnceProps) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null)

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret)
      setCopied('yes')
    } catch {
      // No clipboard (an insecure origin, a refused permission): the secret is on screen to select.
      setCopied('failed')
    }
  }

  return (
    <section class="secret-once" role="region" aria-label={`Secret of ${created.key.name}`}>
      <h2>Key {created.key.name} is made</h2>
      <p>Copy its secret now: it is shown this once and cannot be shown again.</p>
      <code class="secret-once__secret">{created.secret}</code>
      <div class="secret-once__actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <span role="status">{copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Could not copy: select the secret and copy it.' : ''}</span>
        <button type="button" class="secret-once__done" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </section>
  )
}
