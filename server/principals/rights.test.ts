/**
 * Sub-keys only narrow: for any chain of sub-key creations, with any scopes,
 * resources, origins, windows and caps asked for, whatever the last key can
 * do, every key above it can do (property-based, fast-check), and each
 * dimension that would widen is refused by name.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CAP_NAMES, can, narrow, SCOPES, type Caps, type Grant, type GrantRequest, type Request, type Resource, type Target } from './rights.ts'

const T0 = Date.UTC(2026, 0, 1)
const HOUR = 3_600_000

// Small alphabets, so that generated keys and requests often name the same things.
const id = fc.constantFrom('a', 'b', 'c')
const path = fc.array(fc.constantFrom('x', 'y', 'xy', ''), { maxLength: 3 }).map((parts) => `/${parts.join('/')}`)
const prefix = fc.oneof(path, path.map((p) => (p.endsWith('/') ? p : `${p}/`)))
const resource: fc.Arbitrary<Resource> = fc.oneof(
  fc.record({ kind: fc.constant('notebook' as const), id }),
  fc.record({ kind: fc.constant('session' as const), id }),
  fc.record({ kind: fc.constant('content' as const), prefix }),
)
const target: fc.Arbitrary<Target> = fc.oneof(
  fc.record({ kind: fc.constant('notebook' as const), id }),
  fc.record({ kind: fc.constant('session' as const), id }),
  fc.record({ kind: fc.constant('content' as const), path }),
  fc.constant({ kind: 'none' as const }),
)
const origin = fc.constantFrom('https://a.example', 'https://b.example', 'http://127.0.0.1:8080')
const instant = fc.integer({ min: T0 - 10 * HOUR, max: T0 + 10 * HOUR })
const caps: fc.Arbitrary<Caps> = fc.record(Object.fromEntries(CAP_NAMES.map((name) => [name, fc.integer({ min: 0, max: 100 })])), { requiredKeys: [] })
const scopes = fc.subarray([...SCOPES])

const grant: fc.Arbitrary<Grant> = fc
  .record({
    scopes: fc.subarray([...SCOPES], { minLength: 1 }),
    resource: fc.option(resource, { nil: null, freq: 3 }),
    origins: fc.option(fc.uniqueArray(origin), { nil: null, freq: 3 }),
    notBefore: fc.option(instant, { nil: null, freq: 3 }),
    expiresAt: fc.option(instant, { nil: null, freq: 3 }),
    caps,
  })
  // Mostly a window that is open some of the time: an empty one allows nothing, which proves nothing.
  .map((g) => (g.notBefore !== null && g.expiresAt !== null && g.notBefore > g.expiresAt ? { ...g, notBefore: g.expiresAt, expiresAt: g.notBefore } : g))
/** What a sub-key's creator may ask for: any dimension, any value, or left out. */
const grantRequest: fc.Arbitrary<GrantRequest> = fc.record(
  {
    scopes,
    resource: fc.option(resource, { nil: null, freq: 3 }),
    origins: fc.option(fc.array(origin, { maxLength: 3 }), { nil: null, freq: 3 }),
    notBefore: fc.option(instant, { nil: null, freq: 3 }),
    expiresAt: fc.option(instant, { nil: null, freq: 3 }),
    caps,
  },
  { requiredKeys: [] },
)
const request: fc.Arbitrary<Request> = fc.record({
  action: fc.constantFrom(...SCOPES),
  target,
  origin: fc.option(origin, { nil: null, freq: 3 }),
  now: instant,
  asks: caps,
})

/** A request the key is likely to allow: one of its scopes, on its resource or inside it, from one of its origins, at its window's edges. */
function aimedAt(key: Grant): fc.Arbitrary<Request> {
  const aimedTarget: fc.Arbitrary<Target> =
    key.resource === null ? target
      : key.resource.kind === 'content' ? fc.oneof(fc.constant({ kind: 'content' as const, path: key.resource.prefix }), path.map((p) => ({ kind: 'content' as const, path: `${(key.resource as { prefix: string }).prefix}${p}` })))
        : fc.constant({ kind: key.resource.kind, id: key.resource.id })
  // Inside its window mostly, and on each edge of it.
  const from = key.notBefore ?? T0 - 10 * HOUR
  const until = key.expiresAt ?? T0 + 10 * HOUR
  const edges = [key.notBefore, key.expiresAt].filter((t): t is number => t !== null).flatMap((t) => [t - 1, t, t + 1])
  const inside = from < until ? fc.integer({ min: from, max: until - 1 }) : instant
  // At most one limit asked for, at its cap, just over it, or anything.
  const asks = fc.option(
    fc.constantFrom(...CAP_NAMES).chain((name) => {
      const cap = key.caps[name] ?? 50
      return fc.oneof(fc.constantFrom(cap, cap + 1), fc.integer({ min: 0, max: 100 })).map((value): Caps => ({ [name]: value }))
    }),
    { nil: {} },
  )
  return fc.record({
    action: key.scopes.length > 0 ? fc.constantFrom(...key.scopes) : fc.constantFrom(...SCOPES),
    target: aimedTarget,
    origin: key.origins && key.origins.length > 0 ? fc.constantFrom(...key.origins) : fc.option(origin, { nil: null, freq: 3 }),
    now: edges.length > 0 ? fc.oneof({ arbitrary: inside, weight: 3 }, { arbitrary: fc.constantFrom(...edges), weight: 1 }) : inside,
    asks,
  })
}

/**
 * What a sub-key's creator asks of `parent`: each dimension left out, asked
 * inside the parent's, or anything at all (often wider), so that chains grow
 * deep and every way of widening is tried at every depth.
 */
function requestNear(parent: Grant): fc.Arbitrary<GrantRequest> {
  // Inside the parent's, just past its edge (one ms, one unit, a prefix without its slash), or anything.
  const either = <T>(inside: fc.Arbitrary<T>, anything: fc.Arbitrary<T>, edge: fc.Arbitrary<T> = anything) =>
    fc.oneof({ arbitrary: inside, weight: 6 }, { arbitrary: edge, weight: 2 }, { arbitrary: anything, weight: 1 })
  const justPast = (t: number | null, step: number) => (t === null ? anyInstant : fc.constantFrom(t + step, t))
  const anyResource = fc.option(resource, { nil: null, freq: 3 })
  const resourceInside: fc.Arbitrary<Resource | null> =
    parent.resource === null ? anyResource
      : parent.resource.kind === 'content' ? path.map((p) => ({ kind: 'content' as const, prefix: `${(parent.resource as { prefix: string }).prefix}${p}` }))
        : fc.constant(parent.resource)
  const anyOrigins = fc.option(fc.array(origin, { maxLength: 3 }), { nil: null, freq: 3 })
  const anyInstant = fc.option(instant, { nil: null, freq: 3 })
  const later = (t: number | null) => (t === null ? anyInstant : fc.integer({ min: t, max: t + 2 * HOUR }))
  const earlier = (t: number | null) => (t === null ? anyInstant : fc.integer({ min: t - 2 * HOUR, max: t }))
  const capsInside = fc.record(Object.fromEntries(CAP_NAMES.map((name) => [name, fc.integer({ min: 0, max: parent.caps[name] ?? 100 })])), { requiredKeys: [] }) as fc.Arbitrary<Caps>
  return fc.record(
    {
      scopes: either(fc.subarray([...parent.scopes], { minLength: Math.min(1, parent.scopes.length) }), scopes),
      resource: either(resourceInside, anyResource, parent.resource?.kind === 'content' ? fc.constantFrom('y', 'x', '').map((tail) => ({ kind: 'content' as const, prefix: `${(parent.resource as { prefix: string }).prefix.replace(/\/$/, '')}${tail}` })) : anyResource),
      origins: either(parent.origins === null ? anyOrigins : fc.subarray([...parent.origins], { minLength: Math.min(1, parent.origins.length) }), anyOrigins),
      notBefore: either(later(parent.notBefore), anyInstant, justPast(parent.notBefore, -1)),
      expiresAt: either(earlier(parent.expiresAt), anyInstant, justPast(parent.expiresAt, 1)),
      caps: either(capsInside, caps, fc.constantFrom(...CAP_NAMES).map((name): Caps => ({ [name]: (parent.caps[name] ?? 50) + 1 }))),
    },
    { requiredKeys: [] },
  )
}

/** A chain of up to `depth` sub-keys below `root`, each asked of the last; a refused request leaves the chain as it is. */
function mint(root: Grant, depth: number, g: fc.GeneratorValue): Grant[] {
  const chain = [root]
  for (let i = 0; i < depth; i++) {
    const made = narrow(chain[chain.length - 1]!, g(() => requestNear(chain[chain.length - 1]!)))
    if ('grant' in made) chain.push(made.grant)
  }
  return chain
}

describe('sub-keys only narrow', () => {
  it('no chain of sub-keys can do anything a key above it cannot', () => {
    fc.assert(
      fc.property(grant, fc.integer({ min: 1, max: 6 }), fc.gen(), (root, depth, g) => {
        const chain = mint(root, depth, g)
        const leaf = chain[chain.length - 1]!
        // Requests aimed at what the leaf holds, near its window's edges, and any request at all.
        for (let i = 0; i < 20; i++) {
          const r = i % 2 === 0 ? g(() => aimedAt(leaf)) : g(() => request)
          if (!can(leaf, r).allowed) continue
          for (const ancestor of chain) expect(can(ancestor, r)).toEqual({ allowed: true })
        }
      }),
      { numRuns: 3_000, endOnFailure: true },
    )
  })

  it('a grant made by narrowing is inside its parent: narrowing the parent to it again gives it unchanged', () => {
    fc.assert(
      fc.property(grant, grantRequest, (parent, requested) => {
        const made = narrow(parent, requested)
        if (!('grant' in made)) return
        expect(narrow(parent, made.grant)).toEqual({ grant: made.grant })
      }),
      { numRuns: 3_000 },
    )
  })

  it('leaves out nothing: a dimension not asked for is the parent\'s', () => {
    fc.assert(
      fc.property(grant, (parent) => {
        const made = narrow(parent, {})
        expect(made).toEqual({ grant: { ...parent, scopes: [...new Set(parent.scopes)], origins: parent.origins && [...new Set(parent.origins)] } })
      }),
    )
  })
})

describe('each widening is refused by its dimension', () => {
  const parent: Grant = {
    scopes: ['cells:run', 'notebooks:read'],
    resource: { kind: 'content', prefix: '/course/week1' },
    origins: ['https://a.example'],
    notBefore: T0,
    expiresAt: T0 + HOUR,
    caps: { wallMs: 5_000 },
  }
  const cases: [string, GrantRequest, string][] = [
    ['a scope the parent lacks', { scopes: ['cells:run', 'admin'] }, 'scopes'],
    ['no resource restriction', { resource: null }, 'resource'],
    ['a sibling prefix', { resource: { kind: 'content', prefix: '/course/week10' } }, 'resource'],
    ['another kind of resource', { resource: { kind: 'notebook', id: 'n1' } }, 'resource'],
    ['any origin', { origins: null }, 'origins'],
    ['another origin', { origins: ['https://a.example', 'https://evil.example'] }, 'origins'],
    ['an earlier start', { notBefore: T0 - 1 }, 'window'],
    ['no start', { notBefore: null }, 'window'],
    ['a later end', { expiresAt: T0 + HOUR + 1 }, 'window'],
    ['no end', { expiresAt: null }, 'window'],
    ['a higher cap', { caps: { wallMs: 5_001 } }, 'caps'],
  ]
  it.each(cases)('%s', (_name, requested, dimension) => {
    const made = narrow(parent, requested)
    expect('refusal' in made && made.refusal.dimension).toBe(dimension)
  })

  it('allows what is inside: fewer scopes, a deeper prefix, fewer origins, a shorter window, lower and new caps', () => {
    const made = narrow(parent, {
      scopes: ['notebooks:read'],
      resource: { kind: 'content', prefix: '/course/week1/notes' },
      origins: [],
      notBefore: T0 + 1,
      expiresAt: T0 + 2,
      caps: { wallMs: 1_000, memoryMb: 16 },
    })
    expect(made).toEqual({
      grant: { scopes: ['notebooks:read'], resource: { kind: 'content', prefix: '/course/week1/notes' }, origins: [], notBefore: T0 + 1, expiresAt: T0 + 2, caps: { wallMs: 1_000, memoryMb: 16 } },
    })
  })
})

describe('can', () => {
  const key: Grant = { scopes: ['cells:run', 'sessions:use'], resource: { kind: 'session', id: 's1' }, origins: null, notBefore: null, expiresAt: T0, caps: { memoryMb: 32 } }
  const use = (over: Partial<Request>): Request => ({ action: 'sessions:use', target: { kind: 'session', id: 's1' }, origin: null, now: T0 - 1, ...over })

  it('allows its own scope on its own resource inside its window and caps', () => {
    expect(can(key, use({ asks: { memoryMb: 32 } }))).toEqual({ allowed: true })
  })
  it.each([
    ['another scope', use({ action: 'notebooks:write' }), 'scopes'],
    ['another session', use({ target: { kind: 'session', id: 's2' } }), 'resource'],
    ['a one-off cell, outside its session', use({ action: 'cells:run', target: { kind: 'none' } }), 'resource'],
    ['after it expired', use({ now: T0 }), 'window'],
    ['more memory than its cap', use({ asks: { memoryMb: 33 } }), 'caps'],
  ])('refuses %s', (_name, r, dimension) => {
    expect(can(key, r)).toMatchObject({ allowed: false, dimension })
  })
  it('keeps a key with origins to those origins, and refuses a request without one', () => {
    const publishable: Grant = { ...key, resource: null, origins: ['https://course.example'] }
    expect(can(publishable, use({ origin: 'https://course.example' })).allowed).toBe(true)
    expect(can(publishable, use({ origin: 'https://other.example' }))).toMatchObject({ allowed: false, dimension: 'origins' })
    expect(can(publishable, use({ origin: null }))).toMatchObject({ allowed: false, dimension: 'origins' })
  })
})

describe('content prefixes', () => {
  const under = (prefix: string): Grant => ({ scopes: ['content:read'], resource: { kind: 'content', prefix }, origins: null, notBefore: null, expiresAt: null, caps: {} })
  const read = (path: string): Request => ({ action: 'content:read', target: { kind: 'content', path }, origin: null, now: T0 })

  // fast-check found '' counted inside '/' while '//' was not the root: containment must be by segments alone.
  it('compare by segments: empty segments do not count, so "", "/" and "//" are all the root', () => {
    for (const root of ['', '/', '//']) expect(can(under(root), read('/any/thing')).allowed).toBe(true)
    expect(can(under('//a'), read('/a/b')).allowed).toBe(true)
    expect(can(under('/a'), read('/ab')).allowed).toBe(false)
    expect(can(under('/a/b'), read('/a')).allowed).toBe(false)
    expect('refusal' in narrow(under('/a'), { resource: { kind: 'content', prefix: '//' } })).toBe(true)
  })
})
