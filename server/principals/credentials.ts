/**
 * Reads the credential a request carries, if any, without deciding anything:
 *
 *   Authorization: Bearer <key>              API clients, embeds
 *   Authorization: Basic base64(<any>:<key>) WebDAV clients, which only speak Basic
 *   Cookie: cellgate_login=<key>             the web client after a login
 *
 * A header that is there but cannot be read is `malformed`, so the caller
 * gets a 401 saying so instead of being treated as anonymous.
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'

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
