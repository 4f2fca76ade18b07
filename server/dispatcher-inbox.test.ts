/**
 * The dispatcher's messages reach the store whatever the size of a batch:
 * one job's flood of outputs arrives in the same batch as other jobs'
 * messages, and none of them is dropped.
 *
 *   dispatcher --[started A, started B, 150,000 outputs of A, end A, end B]--> inbox --> store
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DispatcherMessage } from '../protocol/index.ts'
import { inProcessServer, TEST_CALLER, type InProcessServer } from '../test/support/server.ts'

let s: InProcessServer

beforeEach(async () => {
  s = await inProcessServer()
})
afterEach(async () => {
  await s.close()
})

const usage = { cpuMs: 1, wallMs: 1, heapBytes: 1, outputBytes: 0 }

describe('DispatcherInbox', () => {
  it('stores a batch of 150,000 messages, other jobs\' messages in it included', async () => {
    const flood = await s.jobs.submit(TEST_CALLER, { code: "for (;;) display.text('')" })
    const neighbour = await s.jobs.submit(TEST_CALLER, { code: '1 + 1' })
    const OUTPUTS = 150_000
    const batch: DispatcherMessage[] = [
      { type: 'started', jobId: flood.id, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' },
      { type: 'started', jobId: neighbour.id, msgSeq: 1, bootId: 'd1', sandboxId: 'sb1' },
    ]
    for (let seq = 1; seq <= OUTPUTS; seq++) {
      batch.push({ type: 'output', jobId: flood.id, msgSeq: seq + 1, output: { seq, stream: 'display', mime: 'text/plain', data: '' } })
    }
    batch.push({ type: 'end', jobId: flood.id, msgSeq: OUTPUTS + 2, end: { status: 'done', usage } })
    batch.push({ type: 'end', jobId: neighbour.id, msgSeq: 2, end: { status: 'done', result: { text: '2', json: 2 }, usage } })

    s.link.deliver(batch)
    await s.jobs.idle()

    expect(await s.jobs.view(TEST_CALLER, neighbour.id)).toMatchObject({ status: 'done', result: { text: '2' } })
    const flooded = await s.jobs.view(TEST_CALLER, flood.id)
    expect(flooded?.status).toBe('done')
    expect(flooded?.outputs).toHaveLength(OUTPUTS)
    const acked = s.link.sent.flatMap((m) => (m.type === 'ack' ? m.acks : []))
    expect(acked).toEqual(expect.arrayContaining([{ jobId: flood.id, upTo: OUTPUTS + 2 }, { jobId: neighbour.id, upTo: 2 }]))
  })
})
