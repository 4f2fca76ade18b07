/**
 * Health in-process: degraded (503) until a dispatcher with a ready sandbox
 * has answered, ok (200) then, degraded again when the store fails.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { inProcessServer, type InProcessServer } from '../../test/support/server.ts'

let s: InProcessServer

beforeEach(async () => {
  s = await inProcessServer()
})
afterEach(async () => {
  await s.close()
})

describe('GET /api/v1/health', () => {
  it('is degraded without a dispatcher', async () => {
    const res = await s.app.request('/api/v1/health')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      status: 'degraded',
      store: { ok: true, kind: 'sqlite' },
      dispatcher: { connected: false, bootId: null, lastSeenMs: null },
      sandboxes: { total: 0, connected: 0, ready: 0, freeSlots: 0, queued: 0 },
    })
  })

  it('is ok once a dispatcher with a connected sandbox said welcome, and reports its pool', async () => {
    s.link.deliver([{ type: 'welcome', bootId: 'd1', pool: { sandboxes: 2, connected: 2, ready: 2, freeSlots: 3, queued: 1 } }])
    const res = await s.app.request('/api/v1/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      status: 'ok',
      store: { ok: true, kind: 'sqlite' },
      dispatcher: { connected: true, bootId: 'd1', lastSeenMs: 0 },
      sandboxes: { total: 2, connected: 2, ready: 2, freeSlots: 3, queued: 1 },
    })
  })

  it('is degraded when no sandbox is connected or the store fails, but not when every sandbox is busy', async () => {
    s.link.deliver([{ type: 'welcome', bootId: 'd1', pool: { sandboxes: 1, connected: 0, ready: 0, freeSlots: 0, queued: 0 } }])
    expect((await s.app.request('/api/v1/health')).status).toBe(503)
    s.link.deliver([{ type: 'welcome', bootId: 'd1', pool: { sandboxes: 1, connected: 1, ready: 0, freeSlots: 0, queued: 7 } }])
    expect((await s.app.request('/api/v1/health')).status).toBe(200)
    s.link.deliver([{ type: 'welcome', bootId: 'd1', pool: { sandboxes: 1, connected: 1, ready: 1, freeSlots: 2, queued: 0 } }])
    expect((await s.app.request('/api/v1/health')).status).toBe(200)
    await s.store.close()
    const res = await s.app.request('/api/v1/health')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'degraded', store: { ok: false, kind: 'sqlite' } })
  })
})
