/**
 * Rights as data, decided by two pure functions: `can(grant, request)`,
 * whether a key's grant allows one action on one thing now, and
 * `narrow(parent, requested)`, the grant of a sub-key — what was asked,
 * with anything left out taken from the parent, or a refusal naming the
 * dimension that would have widened. A sub-key's grant is always inside its
 * parent's in every dimension, so whatever a key can do, every key above it
 * can do too (server/principals/rights.test.ts proves it for any chain).
 *
 *   dimension  a grant holds                     a sub-key may
 *   scopes     actions (cells:run, admin, …)     keep a subset
 *   resource   none, or one notebook / session   keep it, or name one inside it
 *              / content path prefix             (a deeper prefix)
 *   origins    none, or the page origins allowed keep a subset (never drop the list)
 *   window     notBefore, expiresAt (ms)         start no earlier, end no later
 *   caps       the most a cell may ask for       keep each cap or lower it, add caps
 *
 * No scope implies another: `admin` opens the admin routes and nothing more,
 * so the rule "a subset of scopes" is all there is to scopes.
 */

import { CAP_NAMES, type CapName, type Scope } from '../../protocol/scopes.ts'

export { CAP_NAMES, SCOPES, type CapName, type Scope } from '../../protocol/scopes.ts'

/** What a key may be restricted to: one notebook, one session, or content under a path prefix. */
export type Resource = { kind: 'notebook'; id: string } | { kind: 'session'; id: string } | { kind: 'content'; prefix: string }

/** What a request acts on: a notebook, a session, a content path, or nothing in particular (a one-off cell, a key list). */
export type Target = { kind: 'notebook'; id: string } | { kind: 'session'; id: string } | { kind: 'content'; path: string } | { kind: 'none' }

/** The most a cell run with the key may ask for, limit by limit; a limit left out is not capped by the key. */
export type Caps = Partial<Record<CapName, number>>

export interface Grant {
  scopes: readonly Scope[]
  /** null: any resource of the account. */
  resource: Resource | null
  /** null: any origin (or none); otherwise a browser request must come from one of these (scheme://host[:port]). */
  origins: readonly string[] | null
  /** ms since the epoch; null: no bound. The key works from notBefore (inclusive) until expiresAt (exclusive). */
  notBefore: number | null
  expiresAt: number | null
  caps: Caps
}

/** What a sub-key's creator asks for; a dimension left out is the parent's. */
export type GrantRequest = Partial<Grant>

export type Dimension = 'scopes' | 'resource' | 'origins' | 'window' | 'caps'

export interface Refusal {
  dimension: Dimension
  message: string
}

export interface Request {
  action: Scope
  target: Target
  /** The request's Origin header, null without one. */
  origin: string | null
  now: number
  /** The limits a cell asks for, checked against the caps. */
  asks?: Caps
}

export type Decision = { allowed: true } | ({ allowed: false } & Refusal)

const ALLOWED: Decision = Object.freeze({ allowed: true })

/**
 * @example
 *   can(grant, { action: 'notebooks:write', target: { kind: 'notebook', id }, origin: null, now: Date.now() })
 *   // { allowed: false, dimension: 'scopes', message: 'the key does not have the scope notebooks:write' }
 */
export function can(grant: Grant, request: Request): Decision {
  if (!grant.scopes.includes(request.action)) return refuse('scopes', `the key does not have the scope ${request.action}`)
  if (grant.resource !== null && !targets(grant.resource, request.target)) return refuse('resource', `the key is restricted to ${describeResource(grant.resource)}`)
  if (grant.origins !== null && (request.origin === null || !grant.origins.includes(request.origin))) {
    return refuse('origins', request.origin === null ? 'the key may be used only from its pages (the request has no Origin)' : `the key may not be used from ${request.origin}`)
  }
  if (grant.notBefore !== null && request.now < grant.notBefore) return refuse('window', `the key is not valid before ${new Date(grant.notBefore).toISOString()}`)
  if (grant.expiresAt !== null && request.now >= grant.expiresAt) return refuse('window', `the key expired at ${new Date(grant.expiresAt).toISOString()}`)
  for (const name of CAP_NAMES) {
    const cap = grant.caps[name]
    const asked = request.asks?.[name]
    if (cap !== undefined && asked !== undefined && asked > cap) return refuse('caps', `the key allows ${name} up to ${cap}, the request asks for ${asked}`)
  }
  return ALLOWED
}

/**
 * The grant of a sub-key: `requested`, with what it leaves out taken from
 * `parent`, or a refusal if any dimension would be wider than the parent's.
 * Nothing is silently clamped: asking for more is an error that says what.
 *
 * @example
 *   narrow(parent, { scopes: ['cells:run'], expiresAt: Date.now() + 3600_000 })
 *   // { grant: {…} } or { refusal: { dimension: 'window', message: '…' } }
 */
export function narrow(parent: Grant, requested: GrantRequest): { grant: Grant } | { refusal: Refusal } {
  const scopes = requested.scopes ?? parent.scopes
  const extra = scopes.find((scope) => !parent.scopes.includes(scope))
  if (extra !== undefined) return refused('scopes', `the parent key does not have the scope ${extra}`)

  const resource = requested.resource === undefined ? parent.resource : requested.resource
  if (parent.resource !== null && (resource === null || !within(resource, parent.resource))) {
    return refused('resource', `the parent key is restricted to ${describeResource(parent.resource)}`)
  }

  const origins = requested.origins === undefined ? parent.origins : requested.origins
  if (parent.origins !== null) {
    const outside = origins === null ? 'any origin' : origins.find((origin) => !parent.origins!.includes(origin))
    if (outside !== undefined) return refused('origins', `the parent key may be used only from ${parent.origins.join(', ') || 'no origin'}, not ${outside}`)
  }

  const notBefore = requested.notBefore === undefined ? parent.notBefore : requested.notBefore
  if (parent.notBefore !== null && (notBefore === null || notBefore < parent.notBefore)) {
    return refused('window', `the parent key is not valid before ${new Date(parent.notBefore).toISOString()}`)
  }
  const expiresAt = requested.expiresAt === undefined ? parent.expiresAt : requested.expiresAt
  if (parent.expiresAt !== null && (expiresAt === null || expiresAt > parent.expiresAt)) {
    return refused('window', `the parent key expires at ${new Date(parent.expiresAt).toISOString()}`)
  }

  const caps: Caps = { ...parent.caps }
  for (const name of CAP_NAMES) {
    const asked = requested.caps?.[name]
    if (asked === undefined) continue
    const cap = parent.caps[name]
    if (cap !== undefined && asked > cap) return refused('caps', `the parent key allows ${name} up to ${cap}, not ${asked}`)
    caps[name] = asked
  }
  return { grant: { scopes: [...new Set(scopes)], resource, origins: origins === null ? null : [...new Set(origins)], notBefore, expiresAt, caps } }
}

/** Whether a key restricted to `resource` may act on `target`. */
function targets(resource: Resource, target: Target): boolean {
  switch (resource.kind) {
    case 'notebook':
    case 'session':
      return target.kind === resource.kind && target.id === resource.id
    case 'content':
      return target.kind === 'content' && insidePrefix(target.path, resource.prefix)
  }
}

/** Whether a restriction to `inner` is inside a restriction to `outer`. */
function within(inner: Resource, outer: Resource): boolean {
  if (outer.kind === 'content') return inner.kind === 'content' && insidePrefix(inner.prefix, outer.prefix)
  return inner.kind === outer.kind && inner.id === outer.id
}

/**
 * Path-segment containment: `/a/b` is inside `/a` and `/a/`, `/ab` is not
 * inside `/a`. Paths compare by their non-empty segments, so `//a` is `/a`
 * and the relation is transitive whatever strings it is given (the HTTP
 * schema refuses such prefixes, but a rule this central must not depend on it).
 */
function insidePrefix(path: string, prefix: string): boolean {
  const outer = segments(prefix)
  const inner = segments(path)
  return outer.length <= inner.length && outer.every((segment, i) => inner[i] === segment)
}

function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '')
}

function describeResource(resource: Resource): string {
  return resource.kind === 'content' ? `content under ${resource.prefix}` : `${resource.kind} ${resource.id}`
}

function refuse(dimension: Dimension, message: string): Decision {
  return { allowed: false, dimension, message }
}

function refused(dimension: Dimension, message: string): { refusal: Refusal } {
  return { refusal: { dimension, message } }
}
