/**
 * Fair scheduling end to end, with real processes: one caller keeps 64
 * cells in the system (half waiting on a 300 ms timer, half computing for
 * 300 ms) while another runs trivial cells one at a time. The second
 * caller's cells must not wait behind the first one's backlog: each starts
 * before every cell of the flood submitted after it, and after at most
 * `slots` + 1 of the flood's cells (see expectFair) where a FIFO queue
 * would put it behind the whole backlog. Asserted on
 * the order of the stored start times, never on how long anything took.
 *
 *   account A ──64 cells in flight (wait=true, resubmitted as each ends)──┐
 *                                                                       ├─> server ─> dispatcher: A ⇄ B ─> 2 sandboxes × 4 slots
 *   account B ──1 + 1, one at a time──────────────────────────────────────┘
 *
 * The same with two anonymous callers, told apart by their loopback source
 * addresses (127.0.0.1 floods, 127.0.0.2 trickles).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMPUTING_CELL, createAccountKey, SLEEPING_CELL } from '../bench/flood-cells.ts'
import { requestFrom } from './support/client-address.ts'
import { ADMIN_KEY, withKey } from './support/principals.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Cell {
  id: string
  status: string
  result: { text: string } | null
  createdAt: string
  startedAt: string | null
}

/** Runs a cell as one caller and answers with it as the server stored it at its end. */
type Run = (code: string) => Promise<Cell>

const SANDBOXES = 2
const SLOTS_EACH = 4
const SLOTS = SANDBOXES * SLOTS_EACH
const FLOOD = 64
const TRICKLE = 12
const TERMINAL = new Set(['done', 'error', 'timeout', 'cancelled', 'lost'])

let cluster: TestCluster

beforeAll(async () => {
  cluster = await startTestCluster({ CELLGATE_POOL_SIZE: String(SANDBOXES), CELLGATE_SANDBOX_SLOTS: String(SLOTS_EACH) })
})
afterAll(async () => {
  await cluster?.close()
})

/** The cell as stored now, read again until it has ended (a wait=true answer may come before its end). */
async function ended(cell: Cell): Promise<Cell> {
  let now = cell
  while (!TERMINAL.has(now.status)) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    now = (await (await fetch(`${cluster.url}/api/v1/cells/${cell.id}`)).json()) as Cell
  }
  return now
}

function withAccount(secret: string): Run {
  return async (code) => {
    const res = await fetch(`${cluster.url}/api/v1/cells?wait=true`, { method: 'POST', headers: withKey(secret, { 'content-type': 'application/json' }), body: JSON.stringify({ code }) })
    expect(res.status).toBe(200)
    return ended((await res.json()) as Cell)
  }
}

function anonymousFrom(address: string): Run {
  return async (code) => {
    const { status, body } = await requestFrom(address, 'POST', `${cluster.url}/api/v1/cells?wait=true`, { code })
    expect(status).toBe(200)
    return ended(body as Cell)
  }
}

/** Cells queued in the dispatcher now, as its metrics show them. */
async function queuedInDispatcher(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cluster.env.CELLGATE_DISPATCHER_METRICS_PORT}/metrics`)).text()
  return [...text.matchAll(/^cellgate_dispatcher_queue_depth\{priority="\d"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
}

/**
 * Keeps FLOOD cells of `run`'s caller in the system until `stop` resolves;
 * answers every cell it ran, each as stored at its end.
 */
async function flood(run: Run, stop: Promise<void>): Promise<Cell[]> {
  let stopped = false
  void stop.then(() => (stopped = true))
  const cells: Cell[] = []
  await Promise.all(Array.from({ length: FLOOD }, async (_, i) => {
    while (!stopped) cells.push(await run(i % 2 === 0 ? SLEEPING_CELL : COMPUTING_CELL))
  }))
  return cells
}

const at = (iso: string | null) => (iso === null ? Infinity : Date.parse(iso))

/** B's cells against A's: the backlog was there, and none of B's cells waited behind it. */
function expectFair(a: readonly Cell[], b: readonly Cell[]): void {
  expect(a.every((cell) => cell.status === 'done')).toBe(true)
  expect(b.map((cell) => [cell.status, cell.result?.text])).toEqual(b.map(() => ['done', '2']))
  for (const cell of b) {
    const [submitted, started] = [at(cell.createdAt), at(cell.startedAt)]
    // A's backlog when B's cell came: A's cells submitted before it and not started yet.
    const backlog = a.filter((x) => at(x.createdAt) < submitted && at(x.startedAt) > submitted).length
    expect(backlog, `A's backlog when B's cell ${cell.id} came`).toBeGreaterThanOrEqual(FLOOD / 2)
    // At most a slotful sent in the moment between B's cell being stored and reaching the dispatcher, then one turn
    // of A's before B's. Starts in the same millisecond as B's came in the same batch, in either order: not counted.
    const startedMeanwhile = a.filter((x) => at(x.startedAt) >= submitted && at(x.startedAt) < started).length
    expect(startedMeanwhile, `A's cells started while B's cell ${cell.id} waited`).toBeLessThanOrEqual(SLOTS + 1)
    const later = a.filter((x) => at(x.createdAt) > submitted)
    expect(later.filter((x) => at(x.startedAt) <= started).map((x) => x.id), `A's cells submitted after B's ${cell.id} that started before it`).toEqual([])
  }
}

/** A floods, and once the dispatcher holds its backlog B runs its cells one at a time; then A stops. */
async function floodBeside(a: Run, b: Run): Promise<{ a: Cell[]; b: Cell[] }> {
  let stop!: () => void
  const flooding = flood(a, new Promise<void>((resolve) => (stop = resolve)))
  const trickled: Cell[] = []
  try {
    await expect.poll(queuedInDispatcher, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(FLOOD - 2 * SLOTS)
    for (let i = 0; i < TRICKLE; i++) {
      const cell = await b('1 + 1')
      trickled.push((await (await fetch(`${cluster.url}/api/v1/cells/${cell.id}`)).json()) as Cell)
    }
  } catch (err) {
    // The flood's requests fail once the cluster closes: let them end here first.
    stop()
    await flooding.catch(() => undefined)
    throw err
  }
  stop()
  return { a: await flooding, b: trickled }
}

describe('fair scheduling between callers', () => {
  it('runs account B\'s cells beside account A\'s backlog of 64, never behind it', async () => {
    const [keyA, keyB] = [await createAccountKey(cluster.url, ADMIN_KEY, 'flooder'), await createAccountKey(cluster.url, ADMIN_KEY, 'reader')]
    const { a, b } = await floodBeside(withAccount(keyA), withAccount(keyB))
    expect(b).toHaveLength(TRICKLE)
    expect(a.length).toBeGreaterThanOrEqual(FLOOD)
    expectFair(a, b)
  }, 120_000)

  it('gives each anonymous address its own turn: a flood from one does not hold back a reader from another', async () => {
    const { a, b } = await floodBeside(anonymousFrom('127.0.0.1'), anonymousFrom('127.0.0.2'))
    expect(b).toHaveLength(TRICKLE)
    expect(a.length).toBeGreaterThanOrEqual(FLOOD)
    expectFair(a, b)
  }, 120_000)
})
