/**
 * Logging in with OpenID Connect (openid-client): the authorization code
 * flow with PKCE, state and nonce.
 *
 *   browser --GET /login/oidc--> cellgate: seals {verifier, state, nonce} in a cookie, 302 to the provider
 *   browser <--login, consent--> provider: 302 back to /login/oidc/callback?code&state
 *   browser --callback + cookie--> cellgate: unseals, checks state, trades the code (with the verifier)
 *                                  for tokens, checks the ID token's nonce, logs the account in
 *
 * What a login in flight needs is in the sealed cookie (sealed-value.ts,
 * under a key derived from the client secret, valid FLOW_TTL_MS), not in
 * this instance's memory, so the callback may reach any web instance.
 * The person's account is the one with their (issuer, subject), made on
 * their first login (role user, no password, named after their
 * preferred_username or email, made unique); from there the login is the
 * password login's (LoginService.open). Every failure is audited
 * `login.failed` and comes back as an OidcLoginFailure whose message can be
 * shown to the person.
 */
import * as client from 'openid-client'
import type { OidcConfig } from '../../config/schema.ts'
import type { Caller } from '../caller.ts'
import type { AccountRecord, OidcIdentity, PrincipalStore } from '../store/principals-port.ts'
import { ANONYMOUS } from '../store/port.ts'
import { newAccountRecord } from './account-service.ts'
import { audit } from './audit.ts'
import type { Login, LoginService } from './login-service.ts'
import { sealingKey, sealValue, unsealValue } from './sealed-value.ts'

/** How long a person has between leaving for the provider and coming back. */
export const FLOW_TTL_MS = 10 * 60_000
/** How long discovery and the token request may take before the login fails. */
const PROVIDER_TIMEOUT_S = 10

/** A login that did not happen, with why in words a person can act on. */
export class OidcLoginFailure extends Error {
  override name = 'OidcLoginFailure'
}

/** What the sealed cookie holds while the person is at the provider. */
interface Flow {
  verifier: string
  state: string
  nonce: string
  /** The redirect_uri sent, which the token request must repeat. */
  redirectUrl: string
  /** The app path to land on once logged in. */
  next: string
}

export interface OidcLoginDeps {
  store: PrincipalStore
  logins: LoginService
  config: OidcConfig
}

export class OidcLogin {
  readonly #store: PrincipalStore
  readonly #logins: LoginService
  readonly #config: OidcConfig
  readonly #key: Buffer
  /** The provider's metadata, read once; forgotten on failure so the next login tries again. */
  #provider: Promise<client.Configuration> | null = null

  constructor({ store, logins, config }: OidcLoginDeps) {
    this.#store = store
    this.#logins = logins
    this.#config = config
    this.#key = sealingKey(config.clientSecret, 'oidc login flow')
  }

  /** The provider's issuer URL as configured (the login page names it). */
  get issuer(): string {
    return this.#config.issuer
  }

  /** The configured redirect URL, or the callback on the origin the request reached. */
  redirectUrl(requestOrigin: string): string {
    return this.#config.redirectUrl ?? `${requestOrigin}/api/v1/login/oidc/callback`
  }

  /**
   * Where to send the browser, and the sealed flow to set as a cookie.
   *
   * @example
   *   const { location, sealed } = await oidc.start(oidc.redirectUrl(origin), '/keys')
   */
  async start(redirectUrl: string, next: string): Promise<{ location: string; sealed: string }> {
    const provider = await this.provider()
    const flow: Flow = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce(), redirectUrl, next }
    const location = client.buildAuthorizationUrl(provider, {
      redirect_uri: redirectUrl,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    })
    return { location: location.href, sealed: sealValue(this.#key, flow, FLOW_TTL_MS) }
  }

  /**
   * Finishes a login from the provider's redirect (its query string) and
   * the sealed flow cookie; logs the account in, making it on a first login.
   * Throws OidcLoginFailure, audited, for anything that is not a login.
   *
   * @example
   *   const { login, next } = await oidc.finish(caller, new URL(c.req.url).search, getCookie(c, OIDC_FLOW_COOKIE))
   */
  async finish(caller: Caller, query: string, sealed: string | undefined): Promise<{ login: Login; next: string }> {
    try {
      const flow = sealed === undefined ? null : parseFlow(unsealValue(this.#key, sealed))
      if (flow === null) throw new OidcLoginFailure(`the login took longer than ${FLOW_TTL_MS / 60_000} minutes or was not started here: please log in again`)
      const callbackUrl = new URL(flow.redirectUrl)
      callbackUrl.search = query
      const tokens = await client.authorizationCodeGrant(await this.provider(), callbackUrl, {
        pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
      })
      const claims = tokens.claims()
      if (!claims) throw new OidcLoginFailure('the provider sent no ID token')
      const account = await this.accountFor({ issuer: claims.iss, subject: claims.sub }, claims)
      if (account.disabledAt !== null) throw new OidcLoginFailure('this account is disabled')
      return { login: await this.#logins.open(caller, account, 'oidc'), next: flow.next }
    } catch (err) {
      const reason = reasonOf(err)
      await audit(this.#store, caller, 'login.failed', { method: 'oidc', reason: reason.slice(0, 300) })
      throw new OidcLoginFailure(`logging in with ${this.issuer} failed: ${reason}`)
    }
  }

  /** The account of this identity, made on its first login; a name taken meanwhile gets the next free one. */
  private async accountFor(identity: OidcIdentity, claims: Record<string, unknown>): Promise<AccountRecord> {
    const found = await this.#store.getAccountByOidc(identity.issuer, identity.subject)
    if (found) return found
    const base = accountNameFrom(claims)
    for (let n = 1; n <= 50; n++) {
      const account = newAccountRecord({ name: n === 1 ? base : `${base}-${n}`, role: 'user', oidc: identity })
      if (await this.#store.insertAccount(account)) return account
      // Taken: by another login of the same person racing this one, or by someone else's name.
      const raced = await this.#store.getAccountByOidc(identity.issuer, identity.subject)
      if (raced) return raced
    }
    throw new OidcLoginFailure(`no free account name like ${base}: ask an admin to make the account`)
  }

  private provider(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.#config
    // Plain http is allowed for a loopback issuer only (config/schema.ts): a provider started by a test.
    const execute = issuer.startsWith('http:') ? [client.allowInsecureRequests] : []
    this.#provider ??= client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute, timeout: PROVIDER_TIMEOUT_S })
    this.#provider.catch(() => {
      this.#provider = null
    })
    return this.#provider
  }
}

/**
 * An account name from what the provider says of the person, within the
 * names accounts may have (letters, digits, `. _ @ -`, at most 64).
 *
 * @example accountNameFrom({ preferred_username: 'Ada Lovelace' }) // 'Ada-Lovelace'
 */
export function accountNameFrom(claims: Record<string, unknown>): string {
  const said = [claims.preferred_username, claims.email].find((v): v is string => typeof v === 'string' && v.trim() !== '')
  const name = (said ?? '').trim().replace(/[^A-Za-z0-9._@-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56)
  return name === '' || name === ANONYMOUS ? 'user' : name
}

/**
 * Where a login may send the browser afterwards: a path of this app, never
 * another site (`//evil.example` is a host, not a path).
 *
 * @example safeNext('/keys') // '/keys'; safeNext('https://evil.example') // '/'
 */
export function safeNext(next: string | undefined): string {
  return next !== undefined && next.length <= 512 && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/'
}

function parseFlow(value: unknown): Flow | null {
  if (typeof value !== 'object' || value === null) return null
  const flow = value as Record<string, unknown>
  const fields = ['verifier', 'state', 'nonce', 'redirectUrl', 'next'] as const
  return fields.every((f) => typeof flow[f] === 'string') ? (flow as unknown as Flow) : null
}

/** A failure's reason for the person and the audit log: the provider's own words when it sent an error. */
function reasonOf(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) return `the provider answered ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
  if (err instanceof client.ResponseBodyError) return `the provider refused the code: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`
  if (!(err instanceof Error)) return String(err)
  // openid-client says "invalid response encountered" and puts what was wrong (an unexpected state, say) in the cause.
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message
}
