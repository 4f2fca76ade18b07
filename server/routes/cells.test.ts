/**
 * The cells resource in-process (`app.request()`), over a real SQLite store
 * and a recording dispatcher link: what a client may send, what it gets
 * back, and that nothing it sends makes a 500.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_LIMITS, MAX_CODE_BYTES, MAX_LIMITS, type MessageOf, type ServerMessage } from '../../protocol/index.ts'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer

beforeEach(async () => {
  s = await inProcessServer()
})
afterEach(async () => {
  await s.close()
})

function post(body: unknown, init: { path?: string; type?: string | null; raw?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  if (init.type !== null) headers['content-type'] = init.type ?? 'application/json'
  return Promise.resolve(s.app.request(init.path ?? '/api/v1/cells', {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
  }))
}

async function expectError(res: Response, status: number, code: string, mentions?: string): Promise<string> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/application\/json/)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe(code)
  if (mentions) expect(body.error.message).toContain(mentions)
  return body.error.message
}

function submits(): MessageOf<ServerMessage, 'submit'>[] {
  return s.link.sent.filter((m): m is MessageOf<ServerMessage, 'submit'> => m.type === 'submit')
}

describe('POST /api/v1/cells', () => {
  it('stores the job queued, submits it, and answers 202 with its links', async () => {
    const res = await post({ code: 'console.log(1)', timeoutMs: 2000, memoryMb: 32 })
    expect(res.status).toBe(202)
    const body = (await res.json()) as { id: string; status: string; links: { self: string; events: string } }
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      status: 'queued',
      links: { self: `/api/v1/cells/${body.id}`, events: `/api/v1/cells/${body.id}/events` },
    })
    expect(res.headers.get('location')).toBe(body.links.self)
    expect(submits()).toEqual([{
      type: 'submit',
      // app.request() has no socket: the anonymous caller's address is `unknown`.
      job: { jobId: body.id, code: 'console.log(1)', priority: 5, account: 'anonymous:unknown', limits: { ...DEFAULT_LIMITS, wallMs: 2000, memoryMb: 32 } },
    }])

    const job = await (await s.app.request(body.links.self)).json()
    expect(job).toEqual({
      id: body.id,
      status: 'queued',
      code: 'console.log(1)',
      owner: 'anonymous',
      limits: { ...DEFAULT_LIMITS, wallMs: 2000, memoryMb: 32 },
      outputs: [],
      result: null,
      error: null,
      usage: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      startedAt: null,
      endedAt: null,
      session: null,
      links: body.links,
    })
  })

  it('takes the deployment defaults for limits the request leaves out', async () => {
    await s.close()
    s = await inProcessServer({ limits: { wallMs: 3000, memoryMb: 48, outputs: 500 } })
    expect((await post({ code: '1' })).status).toBe(202)
    expect(submits()[0]?.job.limits).toEqual({ ...DEFAULT_LIMITS, wallMs: 3000, memoryMb: 48, outputs: 500 })
  })

  it('gives the job the outputs a request asks for, up to the hard maximum', async () => {
    expect((await post({ code: '1', outputs: MAX_LIMITS.outputs })).status).toBe(202)
    expect((await post({ code: '2', outputs: 0 })).status).toBe(202)
    expect(submits().map((m) => m.job.limits.outputs)).toEqual([MAX_LIMITS.outputs, 0])
  })

  it.each([
    [{}, 'code'],
    [{ code: '' }, 'code'],
    [{ code: 42 }, 'code'],
    [{ code: '1', timeoutMs: -5 }, 'timeoutMs'],
    [{ code: '1', timeoutMs: 0 }, 'timeoutMs'],
    [{ code: '1', timeoutMs: 3_600_000 }, 'timeoutMs'],
    [{ code: '1', timeoutMs: 1.5 }, 'timeoutMs'],
    [{ code: '1', timeoutMs: '100' }, 'timeoutMs'],
    [{ code: '1', memoryMb: 1 }, 'memoryMb'],
    [{ code: '1', memoryMb: 100_000 }, 'memoryMb'],
    [{ code: '1', outputs: -1 }, 'outputs'],
    [{ code: '1', outputs: MAX_LIMITS.outputs + 1 }, 'outputs'],
    [{ code: '1', outputs: 2.5 }, 'outputs'],
    [{ code: '1', outputs: '10' }, 'outputs'],
    [{ code: '1', timeout: 100 }, 'timeout'],
    [{ code: '1', __proto__x: 1 }, '__proto__x'],
    [[], 'body'],
    [null, 'body'],
    ['code', 'body'],
  ])('refuses %j naming %s', async (body, field) => {
    const message = await expectError(await post(body), 400, 'validation_failed', field)
    expect(message.length).toBeLessThan(500)
    expect(submits()).toEqual([])
  })

  it('answers 503 unavailable, not 500, while the store fails', async () => {
    await s.store.close()
    await expectError(await post({ code: '1' }), 503, 'unavailable', 'store')
    await expectError(await s.app.request('/api/v1/cells/abcdefgh12345678'), 503, 'unavailable', 'store')
  })

  it('refuses code over 64 KB of UTF-8 with 413 naming the field', async () => {
    // Fewer UTF-16 units than the limit, more bytes: the limit is in bytes.
    const code = 'é'.repeat(MAX_CODE_BYTES / 2 + 1)
    await expectError(await post({ code }), 413, 'payload_too_large', 'code')
    expect((await post({ code: 'x'.repeat(MAX_CODE_BYTES) })).status).toBe(202)
  })

  it('refuses a body over 1 MB with 413, with or without Content-Length', async () => {
    const big = JSON.stringify({ code: 'x'.repeat(1024 * 1024 + 10) })
    await expectError(await post(null, { raw: big }), 413, 'payload_too_large')
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
        for (let i = 0; i < 20; i++) controller.enqueue(chunk)
        controller.close()
      },
    })
    const res = await s.app.request('/api/v1/cells', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: chunked, duplex: 'half',
    } as RequestInit)
    await expectError(res, 413, 'payload_too_large')
  })

  it('refuses bodies that are not JSON', async () => {
    await expectError(await post(null, { raw: '{"code": ' }), 400, 'invalid_json')
    await expectError(await post(null, { raw: '' }), 400, 'invalid_json')
    await expectError(await post(null, { raw: '\u0000\u00ff garbage' }), 400, 'invalid_json')
  })

  it('refuses a content type other than JSON with 415', async () => {
    await expectError(await post({ code: '1' }, { type: 'text/plain' }), 415, 'unsupported_media_type', 'application/json')
    await expectError(await post({ code: '1' }, { type: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type')
    await expectError(await post({ code: '1' }, { type: null }), 415, 'unsupported_media_type')
    expect((await post({ code: '1' }, { type: 'application/json; charset=utf-8' })).status).toBe(202)
  })

  it('with ?wait=true answers 200 with the finished job', async () => {
    const pending = post({ code: '6 * 7' }, { path: '/api/v1/cells?wait=true' })
    await vi.waitFor(() => expect(submits()).toHaveLength(1))
    const jobId = submits()[0]!.job.jobId
    s.link.deliver([
      { type: 'started', jobId, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' },
      { type: 'output', jobId, msgSeq: 2, output: { seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' } },
      { type: 'end', jobId, msgSeq: 3, end: { status: 'done', result: { text: '42', json: 42 }, usage: { cpuMs: 1, wallMs: 2, heapBytes: 3, outputBytes: 3 } } },
    ])
    const res = await pending
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBe(`/api/v1/cells/${jobId}`)
    expect(await res.json()).toMatchObject({
      id: jobId,
      status: 'done',
      outputs: [{ seq: 1, stream: 'stdout', mime: 'text/plain', data: 'hi\n' }],
      result: { text: '42', json: 42 },
      usage: { cpuMs: 1, wallMs: 2, heapBytes: 3, outputBytes: 3 },
      startedAt: expect.any(String),
      endedAt: expect.any(String),
    })
  })

  it('with ?wait=true answers 202 with the job as it is when the bound passes', async () => {
    await s.close()
    s = await inProcessServer({ server: { waitGraceMs: 0 } })
    const res = await post({ code: 'for(;;);', timeoutMs: 10 }, { path: '/api/v1/cells?wait=true' })
    expect(res.status).toBe(202)
    expect(await res.json()).toMatchObject({ status: 'queued', outputs: [], links: { self: expect.any(String) } })
  })
})

describe('GET /api/v1/cells/:id', () => {
  it('answers 404 JSON for unknown and malformed ids', async () => {
    await expectError(await s.app.request('/api/v1/cells/AAAAAAAAAAAAAAAA'), 404, 'not_found', 'AAAAAAAAAAAAAAAA')
    for (const id of ['x', '%2e%2e', 'a'.repeat(500), 'abc%00defghij', '..', 'bad id here!']) {
      await expectError(await s.app.request(`/api/v1/cells/${id}`), 404, 'not_found')
    }
  })
})

describe('POST /api/v1/cells/:id/cancel', () => {
  it('ends a queued job cancelled at once, tells the dispatcher, and answers 200 once ended', async () => {
    const { id } = (await (await post({ code: 'for(;;);' })).json()) as { id: string }
    const res = await s.app.request(`/api/v1/cells/${id}/cancel`, { method: 'POST' })
    expect(res.status).toBe(202)
    expect(await res.json()).toMatchObject({ id, status: 'cancelled', endedAt: expect.any(String), error: { name: 'Cancelled' } })
    expect(s.link.sent).toContainEqual({ type: 'cancel', jobId: id })

    const again = await s.app.request(`/api/v1/cells/${id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ status: 'cancelled' })
  })

  it('asks the dispatcher to stop a running job and leaves its end to the sandbox', async () => {
    const { id } = (await (await post({ code: 'for(;;);' })).json()) as { id: string }
    s.link.deliver([{ type: 'started', jobId: id, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' }])
    await s.jobs.idle()
    const res = await s.app.request(`/api/v1/cells/${id}/cancel`, { method: 'POST' })
    expect(res.status).toBe(202)
    expect(await res.json()).toMatchObject({ status: 'running' })
    expect(s.link.sent).toContainEqual({ type: 'cancel', jobId: id })
  })

  it('answers 404 for an unknown cell', async () => {
    await expectError(await s.app.request('/api/v1/cells/AAAAAAAAAAAAAAAA/cancel', { method: 'POST' }), 404, 'not_found')
  })
})

describe('routing and errors', () => {
  it('answers unknown API paths with 404 JSON and wrong methods with 405', async () => {
    await expectError(await s.app.request('/api/v1/nothing'), 404, 'not_found')
    await expectError(await s.app.request('/api/v2/cells', { method: 'POST' }), 404, 'not_found')
    await expectError(await s.app.request('/api'), 404, 'not_found')
    const res = await s.app.request('/api/v1/cells', { method: 'PUT' })
    await expectError(res, 405, 'method_not_allowed', 'POST')
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST')
    await expectError(await s.app.request('/api/v1/cells/AAAAAAAAAAAAAAAA', { method: 'DELETE' }), 405, 'method_not_allowed')
    await expectError(await s.app.request('/api/v1/health', { method: 'PUT' }), 405, 'method_not_allowed')
  })

  it('never answers 500 to whatever a client sends', async () => {
    const requests: [string, RequestInit][] = [
      ['/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(100_000) }],
      ['/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1","code":2}' }],
      ['/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"code":"1"}}' }],
      ['/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"\\ud800"}' }],
      ['/api/v1/cells', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 'abc' }, body: '{}' }],
      ['/api/v1/cells?wait=maybe&wait=true', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"1","timeoutMs":10}' }],
      ['/api/v1/cells/%E0%A4%A/events', {}],
      ['/api/v1/cells/AAAAAAAAAAAAAAAA/events?lastEventId=-1', {}],
      ['/api/v1/cells/AAAAAAAAAAAAAAAA/events', { headers: { 'last-event-id': 'x'.repeat(1000) } }],
      ['/api/v1/cells/%00%00%00%00%00%00%00%00', { method: 'POST' }],
      ['/api/v1/health?x=%', {}], // 503 here: no dispatcher in this test
    ]
    for (const [path, init] of requests) {
      const res = await s.app.request(path, init)
      expect(res.status, `${init.method ?? 'GET'} ${path}`).not.toBe(500)
      const body = (await res.json()) as object
      expect(body, path).toBeTypeOf('object')
    }
  })
})
