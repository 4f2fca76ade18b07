/**
 * A real OpenID Connect provider for tests: oidc-provider (v8, which runs
 * on Node 20) on a free loopback port, with one confidential client whose
 * redirect URL the test names. Its development login and consent pages
 * take any login name (it becomes the person's `sub` and
 * preferred_username) and any password, so a browser test can go through
 * them as a person would.
 *
 *   chromium --login, consent--> provider (this)  <--discovery, token-- cellgate
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

export const OIDC_CLIENT_ID = 'cellgate-test'
export const OIDC_CLIENT_SECRET = 'a-client-secret-for-tests-only'

export interface TestOidcProvider {
  /** The issuer URL, http://127.0.0.1:<port>. */
  issuer: string
  /** CELLGATE_OIDC_* for a cellgate that logs in with this provider. */
  env: Record<string, string>
  close(): Promise<void>
}

/**
 * @example
 *   const provider = await startOidcProvider(`${cellgateUrl}/api/v1/login/oidc/callback`)
 *   const cluster = await startTestCluster({ PORT, ...provider.env })
 */
export async function startOidcProvider(redirectUrl: string): Promise<TestOidcProvider> {
  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [{
      client_id: OIDC_CLIENT_ID, client_secret: OIDC_CLIENT_SECRET, redirect_uris: [redirectUrl],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true, methods: ['S256'] },
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
    // The ID token carries the claims, as cellgate reads them from it (no userinfo request).
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, preferred_username: id, email: `${id}@example.org` }) }),
    cookies: { keys: ['test cookie key, not a secret'] },
    // Set, rather than left to defaults that print a notice for each.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  })
  // Otherwise a provider's own failure would show only as a login that did not happen.
  provider.on('server_error', (_ctx, err) => console.warn(`oidc provider error: ${err.message}`))
  http.on('request', provider.callback())
  return {
    issuer,
    env: { CELLGATE_OIDC_ISSUER: issuer, CELLGATE_OIDC_CLIENT_ID: OIDC_CLIENT_ID, CELLGATE_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET },
    close: () => new Promise<void>((resolve) => {
      http.close(() => resolve())
      http.closeAllConnections()
    }),
  }
}
