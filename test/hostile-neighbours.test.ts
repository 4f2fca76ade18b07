/**
 * Hostile cells beside ordinary ones, end to end with real processes: one
 * sandbox process (four slots) holds a hostile client's cell, another
 * client's ordinary cells and that client's live session at once. Each
 * hostile cell must end with its own clear status while the ordinary cells
 * end `done` with their outputs, the session still answers, the sandbox
 * process lives on and the pool serves the next cell.
 *
 *   127.0.0.2 (hostile) ──bomb/flood──┐
 *                                     ├─> server ─> dispatcher ─> one sandbox process: hostile | ordinary | ordinary | session
 *   127.0.0.1 (ordinary) ─cells, session┘
 *
 * The two clients are two loopback source addresses, so the server sees
 * two callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_CELLS, type HostileCell } from '../bench/hostile-cells.ts'
import { requestFrom } from './support/client-address.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Job {
  id: string
  status: string
  outputs?: { data: string }[]
  result: { text: string } | null
  error: { name: string; message: string } | null
}

let cluster: TestCluster
let session: string
const HOSTILE_ADDRESS = '127.0.0.2'

beforeAll(async () => {
  cluster = await startTestCluster({ CELLGATE_POOL_SIZE: '1', CELLGATE_SANDBOX_SLOTS: '4' })
  const res = await fetch(`${cluster.url}/api/v1/sessions`, { method: 'POST' })
  expect(res.status).toBe(201)
  session = ((await res.json()) as { id: string }).id
  expect((await run('count = 0')).status).toBe('done')
})
afterAll(async () => {
  await cluster?.close()
})

/** A cell, submitted and waited for, from the ordinary client (127.0.0.1) or the hostile one (127.0.0.2). */
async function post(code: string, extra: object = {}, from = '127.0.0.1'): Promise<Job> {
  const { status, body } = await requestFrom(from, 'POST', `${cluster.url}/api/v1/cells?wait=true`, { code, ...extra })
  expect(status).toBe(200)
  return body as Job
}

/** A cell in the ordinary client's session. */
function run(code: string): Promise<Job> {
  return post(code, { session })
}

async function outputsOf(id: string): Promise<string> {
  const res = await fetch(`${cluster.url}/api/v1/cells/${id}`)
  const job = (await res.json()) as Job
  return (job.outputs ?? []).map((o) => o.data).join('')
}

/** An ordinary cell that is in the sandbox for the whole of the hostile cell's run: it waits on a timer past the hostile's wall limit. */
function ordinaryBeside(hostile: HostileCell): Promise<Job> {
  const waitMs = hostile.timeoutMs + 500
  return post(`console.log('before'); await new Promise((r) => setTimeout(r, ${waitMs})); console.log('after'); 40 + 2`, { timeoutMs: waitMs + 5_000 })
}

describe('a hostile cell beside ordinary cells and a session in the same sandbox process', () => {
  it.each(HOSTILE_CELLS.map((cell) => [cell.name, cell] as const))('%s', async (_name, hostile) => {
    const pidsBefore = cluster.sandboxPids()
    const sessionCount = Number((await run('++count')).result?.text)
    const ordinary = [ordinaryBeside(hostile), ordinaryBeside(hostile)]
    const ended = await post(hostile.code, { timeoutMs: hostile.timeoutMs }, HOSTILE_ADDRESS)
    // Quick ordinary cells, one after another, while the hostile one runs and after.
    const quick = await post('1 + 1')

    expect({ status: ended.status, error: ended.error?.name }).toEqual({ status: hostile.status, error: hostile.error })
    expect(quick).toMatchObject({ status: 'done', result: { text: '2' } })
    for (const job of await Promise.all(ordinary)) {
      expect(job).toMatchObject({ status: 'done', result: { text: '42' } })
      expect(await outputsOf(job.id)).toBe('before\nafter\n')
    }
    expect((await run('++count')).result?.text).toBe(String(sessionCount + 1))
    expect(cluster.sandboxPids()).toEqual(pidsBefore)
    expect((await post('"next"')).result?.text).toBe("'next'")
  })
})
