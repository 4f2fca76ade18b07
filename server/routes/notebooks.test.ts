/**
 * The notebooks resource in-process (`app.request()`) over a real SQLite
 * store: create, read, save again, and every refusal names its field.
 *
 *   client                                server                store
 *     POST /notebooks {title, cells} ──>  201 {id, links} ────>  saveNotebook
 *     GET  /notebooks/:id ─────────────>  200 the notebook <──  getNotebook
 *     PUT  /notebooks/:id {title, cells} > 200 (createdAt kept)  saveNotebook
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../../protocol/index.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'
import { MAX_NOTEBOOK_CELLS, type NotebookView } from '../../protocol/index.ts'

let s: InProcessServer
afterEach(async () => {
  await s?.close()
})

const json = { 'content-type': 'application/json' }

function send(method: 'POST' | 'PUT', path: string, body: unknown): Promise<Response> {
  return Promise.resolve(s.app.request(`/api/v1/notebooks${path}`, { method, headers: json, body: typeof body === 'string' ? body : JSON.stringify(body) }))
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
    const created = (await res.json()) as NotebookView
    expect(created.id).toMatch(/^[\w-]{12}$/)
    expect(res.headers.get('location')).toBe(`/api/v1/notebooks/${created.id}`)
    expect(created).toMatchObject({ title: 'Answer', cells: [{ code: 'x = 41' }, ran], links: { self: `/api/v1/notebooks/${created.id}`, page: `/notebooks/${created.id}` } })
    expect(created.createdAt).toBe(created.updatedAt)

    const read = (await (await s.app.request(`/api/v1/notebooks/${created.id}`)).json()) as NotebookView
    expect(read).toEqual(created)

    const saved = await send('PUT', `/${created.id}`, { title: 'Renamed', cells: [ran] })
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
