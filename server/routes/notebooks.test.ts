/**
 * The notebooks resource in-process (`app.request()`) over a real SQLite
 * store: create, read, save again, and every refusal names its field.
 *
 *   client                                server                store
 *     POST /notebooks {title, cells} ──>  201 {id, links} ────>  saveNotebook
 *     GET  /notebooks/:id ─────────────>  200 the notebook <──  getNotebook
 *     PUT  /notebooks/:id {title, cells} > 200 (createdAt kept)  saveNotebook
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_BODY_BYTES } from '../../protocol/index.ts'
import { ADMIN_KEY, keyCaller, withKey } from '../../test/support/principals.ts'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../../test/support/server.ts'
import { MAX_NOTEBOOK_CELLS, type NotebookView } from '../../protocol/index.ts'

let s: InProcessServer
afterEach(async () => {
  vi.useRealTimers()
  await s?.close()
})

const json = { 'content-type': 'application/json' }

type Created = NotebookView & { key: string }

/** A request from the client at `ip`, with a key when given. */
function send(method: 'POST' | 'PUT', path: string, body: unknown, ip = '127.0.0.1', key?: string): Promise<Response> {
  const init = { method, headers: key === undefined ? json : withKey(key, json), body: typeof body === 'string' ? body : JSON.stringify(body) }
  return Promise.resolve(s.app.request(`/api/v1/notebooks${path}`, init, { incoming: { socket: { remoteAddress: ip } } }))
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } }
  return { status: res.status, ...body.error }
}

const ran = {
  code: 'x + 1',
  outputs: [{ seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' }],
  result: { text: '42', json: 42 },
  error: null,
}

describe('notebooks API', () => {
  it('creates a notebook with an unguessable id, reads it back and saves it again', async () => {
    s = await inProcessServer()
    const res = await send('POST', '', { title: 'Answer', cells: [{ code: 'x = 41' }, ran] })
    expect(res.status).toBe(201)
    const { key, ...created } = (await res.json()) as Created
    expect(created.id).toMatch(/^[\w-]{12}$/)
    expect(key).toMatch(/^cg_sk_/)
    expect(res.headers.get('location')).toBe(`/api/v1/notebooks/${created.id}`)
    expect(created).toMatchObject({ title: 'Answer', cells: [{ code: 'x = 41' }, ran], links: { self: `/api/v1/notebooks/${created.id}`, page: `/notebooks/${created.id}` } })
    expect(created.createdAt).toBe(created.updatedAt)

    const read = (await (await s.app.request(`/api/v1/notebooks/${created.id}`)).json()) as NotebookView
    expect(read).toEqual(created)

    const saved = await send('PUT', `/${created.id}`, { title: 'Renamed', cells: [ran] }, '127.0.0.1', key)
    expect(saved.status).toBe(200)
    const after = (await saved.json()) as NotebookView
    expect(after).toMatchObject({ id: created.id, title: 'Renamed', cells: [ran], createdAt: created.createdAt })
    expect(after.updatedAt).toBeGreaterThanOrEqual(created.updatedAt)
    expect(await (await s.app.request(`/api/v1/notebooks/${created.id}`)).json()).toEqual(after)

    // Two notebooks never share an id.
    const other = (await (await send('POST', '', { cells: [] })).json()) as NotebookView
    expect(other.id).not.toBe(created.id)
    expect(other.title).toBe('')
  })

  it('saves a notebook only for its owner: its own key, or a key of the account that made it with notebooks:write', async () => {
    s = await inProcessServer()
    const mine = (await (await send('POST', '', { cells: [] })).json()) as Created
    const other = (await (await send('POST', '', { cells: [] })).json()) as Created
    const save = (id: string, key?: string) => send('PUT', `/${id}`, { title: 'mine', cells: [] }, '127.0.0.1', key)

    // Without a key (any page a visitor opens), with another notebook's key, with a key of another account.
    expect(await errorOf(await save(mine.id))).toMatchObject({ status: 401, code: 'unauthenticated' })
    expect((await save(mine.id)).headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect(await errorOf(await save(mine.id, other.key))).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringContaining(`notebook ${other.id}`) })
    expect(await errorOf(await save(mine.id, ADMIN_KEY))).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringContaining('another account') })
    expect((await save(mine.id, mine.key)).status).toBe(200)

    // A notebook made with an account's key is that account's: no key of its own, saved with the account's keys.
    const owned = (await (await send('POST', '', { cells: [] }, '127.0.0.1', ADMIN_KEY)).json()) as Created
    expect(owned.key).toBeUndefined()
    expect((await save(owned.id, ADMIN_KEY)).status).toBe(200)
    expect(await errorOf(await save(owned.id, mine.key))).toMatchObject({ status: 403, code: 'forbidden' })
    expect(await errorOf(await save(owned.id))).toMatchObject({ status: 401 })
    // Anyone may read either by its link.
    for (const id of [mine.id, owned.id]) expect((await s.app.request(`/api/v1/notebooks/${id}`)).status).toBe(200)
  })

  it('answers 404 for an unknown notebook, on read and on save', async () => {
    s = await inProcessServer()
    expect(await errorOf(await s.app.request('/api/v1/notebooks/nosuchnotebook'))).toMatchObject({ status: 404, code: 'not_found' })
    expect(await errorOf(await s.app.request('/api/v1/notebooks/x'))).toMatchObject({ status: 404, code: 'not_found' })
    expect(await errorOf(await send('PUT', '/nosuchnotebook', { cells: [] }))).toMatchObject({ status: 404, code: 'not_found' })
  })

  it('refuses bad notebooks, naming the field', async () => {
    s = await inProcessServer()
    expect(await errorOf(await send('POST', '', {}))).toMatchObject({ status: 400, code: 'validation_failed', message: expect.stringMatching(/^cells:/) })
    expect(await errorOf(await send('POST', '', { cells: [{ code: 1 }] }))).toMatchObject({ status: 400, message: expect.stringMatching(/^cells\.0\.code:/) })
    expect(await errorOf(await send('POST', '', { cells: [{ code: '1', outputs: [{ seq: 0 }] }] }))).toMatchObject({ status: 400, message: expect.stringMatching(/^cells\.0\.outputs\.0\./) })
    expect(await errorOf(await send('POST', '', { cells: [], owner: 'me' }))).toMatchObject({ status: 400, message: expect.stringContaining('owner') })
    const tooMany = Array.from({ length: MAX_NOTEBOOK_CELLS + 1 }, () => ({ code: '1' }))
    expect(await errorOf(await send('POST', '', { cells: tooMany }))).toMatchObject({ status: 400, message: expect.stringMatching(/^cells:/) })
    expect(await errorOf(await send('POST', '', '{"cells": ['))).toMatchObject({ status: 400, code: 'invalid_json' })
    const huge = { cells: [{ code: '1', result: { text: 'x'.repeat(MAX_BODY_BYTES) } }] }
    expect(await errorOf(await send('POST', '', huge))).toMatchObject({ status: 413, code: 'payload_too_large' })
  })
})

describe('notebook budgets per client', () => {
  const MINUTE = 60_000
  /** A notebook of about `kb` KB. */
  const sized = (kb: number, title = 'n') => ({ title, cells: [{ code: '1', result: { text: 'x'.repeat(kb * 1024) } }] })

  it('refuses a flood of notebooks with 429 rate_limited and Retry-After; another client is unaffected, and the budget refills', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer({ notebooks: { writesPerClient: 5, windowMs: 10 * MINUTE } })
    for (let i = 0; i < 5; i++) expect((await send('POST', '', sized(1), '10.0.0.1')).status).toBe(201)
    const refused = await send('POST', '', sized(1), '10.0.0.1')
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'rate_limited', message: expect.stringMatching(/5 notebooks in 10 minutes.*try again in 120 s/) })
    // One write comes back every 10 minutes / 5.
    expect(refused.headers.get('retry-after')).toBe('120')
    const elsewhere = (await (await send('POST', '', sized(1), '10.0.0.2')).json()) as Created
    expect(await errorOf(await send('PUT', `/${elsewhere.id}`, sized(1), '10.0.0.1', elsewhere.key)))
      .toMatchObject({ status: 429, code: 'rate_limited' })
    expect((await send('POST', '', sized(1), '10.0.0.2')).status).toBe(201)

    vi.setSystemTime(Date.now() + 119_000)
    expect((await send('POST', '', sized(1), '10.0.0.1')).status).toBe(429)
    vi.setSystemTime(Date.now() + 1_000)
    expect((await send('POST', '', sized(1), '10.0.0.1')).status).toBe(201)
    expect((await send('POST', '', sized(1), '10.0.0.1')).status).toBe(429)
  })

  it('refuses notebooks that would add more bytes than the window allows with 429 quota_exceeded; saving one again adds only what it grows', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer({ notebooks: { bytesPerClient: 2 * MAX_BODY_BYTES, windowMs: 60 * MINUTE } })
    const big = (await (await send('POST', '', sized(900))).json()) as Created
    // Saving the same notebook again and again adds nothing.
    for (let i = 0; i < 20; i++) expect((await send('PUT', `/${big.id}`, sized(900, `v${i}`), '127.0.0.1', big.key)).status).toBe(200)
    expect((await send('POST', '', sized(900))).status).toBe(201)
    const refused = await send('POST', '', sized(900))
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'quota_exceeded', message: expect.stringMatching(/at most 2097152 bytes .* in 1 hour/) })
    const wait = Number(refused.headers.get('retry-after'))
    // 1.8 MB used and 0.9 MB more asked of 2 MB an hour: 0.65 MB must come back, some 19 minutes.
    expect(wait).toBeGreaterThan(18 * 60)
    expect(wait).toBeLessThan(20 * 60)
    expect((await send('POST', '', sized(900), '10.0.0.9')).status).toBe(201)
    vi.setSystemTime(Date.now() + wait * 1000)
    expect((await send('POST', '', sized(900))).status).toBe(201)

    // The budget is spent: growing a saved notebook by 100 KB is refused, and fits once 5 minutes (170 KB) came back.
    expect(await errorOf(await send('PUT', `/${big.id}`, sized(1000), '127.0.0.1', big.key))).toMatchObject({ status: 429, code: 'quota_exceeded' })
    vi.setSystemTime(Date.now() + 5 * MINUTE)
    expect((await send('PUT', `/${big.id}`, sized(1000), '127.0.0.1', big.key)).status).toBe(200)
  })

  it('never refuses an author working all day at a human pace with the default budgets', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer()
    const notebooks = s.services.notebooks
    let saves = 0
    // Eight hours, through the service (the routes above show how a refusal is answered): a new notebook
    // every half hour, saved every 10 s as it is written, growing as it goes. None of it throws.
    for (let n = 0; n < 16; n++) {
      const { id, key } = await notebooks.create(TEST_CALLER, sized(4))
      const author = await keyCaller(s.services.auth, key!)
      for (let save = 0; save < 180; save++) {
        vi.setSystemTime(Date.now() + 10_000)
        expect(await notebooks.save(author, id, sized(4 + save / 10))).not.toBeNull()
        saves++
      }
    }
    expect(saves).toBe(16 * 180)
  })

  it('forgets clients whose budgets refilled, in the sweep', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    s = await inProcessServer({ notebooks: { windowMs: MINUTE } })
    for (const ip of ['10.0.0.1', '10.0.0.2']) expect((await send('POST', '', sized(1), ip)).status).toBe(201)
    const held = () => (s.services.notebooks as unknown as { writes: { size: number } }).writes.size
    expect(held()).toBe(2)
    s.services.notebooks.forgetRefilled(Date.now() + MINUTE)
    expect(held()).toBe(0)
  })
})
