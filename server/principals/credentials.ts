/**
 * Reads the credential a request carries, if any, without deciding anything:
 *
 *   Authorization: Bearer <key>              API clients, embeds
 *   Authorization: Basic base64(<any>:<key>) WebDAV clients, which only speak Basic
 *   Cookie: cellgate_login=<key>             the web client after a login
 *
 * A header that is there but cannot be read is `malformed`, so the caller
 * gets a 401 saying so instead of being treated as anonymous. The login
 * cookies are set here too (setLoginCookies), so their names and
 * attributes are in one place for every way of logging in.
 */
import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'

/** The cookie holding a login's key (HttpOnly, SameSite=Lax); its CSRF partner is readable by the page. */
export const LOGIN_COOKIE = 'cellgate_login'
export const CSRF_COOKIE = 'cellgate_csrf'
export const CSRF_HEADER = 'X-Cellgate-CSRF'

/** Longer than any key the server makes; a longer credential is refused before it is hashed. */
const MAX_CREDENTIAL = 256

export type Credential =
  | { kind: 'none' }
  | { kind: 'malformed'; message: string }
  | { kind: 'key'; secret: string; via: 'bearer' | 'basic' | 'cookie' }

/**
 * @example
 *   readCredential(c) // { kind: 'key', secret: 'cg_sk_…', via: 'bearer' }
 */
export function readCredential(c: Context): Credential {
  const header = c.req.header('Authorization')
  if (header !== undefined) return fromHeader(header)
  const cookie = getCookie(c, LOGIN_COOKIE)
  if (cookie === undefined || cookie === '') return { kind: 'none' }
  return cookie.length > MAX_CREDENTIAL ? { kind: 'malformed', message: 'the login cookie is not one this server set' } : { kind: 'key', secret: cookie, via: 'cookie' }
}

function fromHeader(header: string): Credential {
  const space = header.indexOf(' ')
  const scheme = space < 0 ? header : header.slice(0, space)
  const value = space < 0 ? '' : header.slice(space + 1).trim()
  if (value === '' || value.length > 2 * MAX_CREDENTIAL) return malformed()
  switch (scheme.toLowerCase()) {
    case 'bearer':
      return value.length > MAX_CREDENTIAL ? malformed() : { kind: 'key', secret: value, via: 'bearer' }
    case 'basic': {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      const secret = colon < 0 ? '' : decoded.slice(colon + 1)
      return secret === '' || secret.length > MAX_CREDENTIAL ? malformed() : { kind: 'key', secret, via: 'basic' }
    }
    default:
      return malformed()
  }
}

function malformed(): Credential {
  return { kind: 'malformed', message: 'the Authorization header must be "Bearer <key>", or Basic with the key as the password' }
}

/**
 * Sets the login cookie (HttpOnly: no script reads the key) and the CSRF
 * cookie (readable: the page echoes it in X-Cellgate-CSRF), both SameSite=Lax,
 * Secure over HTTPS, ending with the login.
 *
 * @example
 *   setLoginCookies(c, await logins.login(caller, { name, password }))
 */
export function setLoginCookies(c: Context, { secret, expiresAt }: { secret: string; expiresAt: number }): void {
  const cookie = { path: '/', secure: overHttps(c), sameSite: 'Lax' as const, expires: new Date(expiresAt) }
  setCookie(c, LOGIN_COOKIE, secret, { ...cookie, httpOnly: true })
  setCookie(c, CSRF_COOKIE, randomBytes(18).toString('base64url'), cookie)
}

/** @example clearLoginCookies(c) // on logout */
export function clearLoginCookies(c: Context): void {
  deleteCookie(c, LOGIN_COOKIE, { path: '/' })
  deleteCookie(c, CSRF_COOKIE, { path: '/' })
}

/**
 * Whether the browser reached us over HTTPS. Behind a TLS-terminating proxy
 * the request arrives over HTTP; the proxy says what the browser used.
 *
 * @example setCookie(c, name, value, { secure: overHttps(c) })
 */
export function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https'
}
