/**
 * A slot's context made ahead of time (prepareNext) with real isolates: it
 * must be as fresh as one made when the job arrives, and a job that cannot
 * use it (another memory limit, a disposed isolate) still runs.
 *
 *   slot.run(job A)  ->  end  ->  slot.prepareNext()  (fresh context + prelude)
 *   slot.run(job B)  ->  runs in that context; A left nothing in it
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Limits } from '../protocol/index.ts'
import * as cells from '../test/support/fixtures/cells.ts'
import { testJob } from '../test/support/jobs.ts'
import { silentLogger } from '../telemetry/logger.ts'
import { buildPrelude } from './prelude.ts'
import { Slot } from './slot.ts'

let slot: Slot | undefined
afterEach(() => slot?.dispose())

async function newSlot(): Promise<Slot> {
  slot = new Slot(await buildPrelude(), silentLogger())
  return slot
}

const run = (target: Slot, code: string, limits: Partial<Limits> = {}) => target.run(testJob(code, { limits }), () => {})

describe('slot: the next context, made ahead of time', () => {
  it('is fresh: globals and prototypes a job changed are not in it', async () => {
    const target = await newSlot()
    expect((await run(target, cells.pollutes)).status).toBe('done')
    target.prepareNext()
    const end = await run(target, cells.checksPollution)
    expect(end).toMatchObject({ status: 'done', result: { json: 'undefined,undefined,undefined,undefined' } })
  })

  it('is made once however often it is asked for, and each job gets its own', async () => {
    const target = await newSlot()
    await run(target, 'globalThis.mark = 1')
    target.prepareNext()
    target.prepareNext()
    expect(await run(target, 'globalThis.mark = (globalThis.mark ?? 0) + 1')).toMatchObject({ result: { json: 1 } })
    expect(await run(target, 'typeof mark')).toMatchObject({ result: { json: 'undefined' } })
  })

  it('is dropped when the next job needs another memory limit, which then runs in a new isolate', async () => {
    const target = await newSlot()
    await run(target, '1')
    target.prepareNext()
    expect(await run(target, '6 * 7', { memoryMb: 32 })).toMatchObject({ status: 'done', result: { json: 42 } })
  })

  it('is not made after the isolate was disposed to stop a job; the next job gets a new isolate', async () => {
    const target = await newSlot()
    expect((await run(target, cells.loopsForever, { cpuMs: 50 })).status).toBe('timeout')
    target.prepareNext()
    expect(await run(target, '1 + 1')).toMatchObject({ status: 'done', result: { json: 2 } })
  })
})
