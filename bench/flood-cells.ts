/**
 * The flood of the fairness scenario and its test (test/fairness.test.ts):
 * cells that hold a slot for about 300 ms, half of them only waiting on a
 * timer and half computing, so that a backlog of them is both kinds of
 * neighbour a trivial cell can get; and the accounts the two callers are.
 */

/** How long each flood cell holds its slot, in ms. */
export const FLOOD_CELL_MS = 300

/** Waits on a timer: holds a slot, not a core. */
export const SLEEPING_CELL = `await new Promise((r) => setTimeout(r, ${FLOOD_CELL_MS})); "slept"`

/** Computes until the time is up: holds a slot and a core. */
export const COMPUTING_CELL = `const end = Date.now() + ${FLOOD_CELL_MS}; let n = 0; while (Date.now() < end) n++; "computed"`

/**
 * Makes an account as the admin and answers its first key's secret.
 *
 * @example
 *   const keyA = await createAccountKey(url, ADMIN_KEY, 'flooder')
 */
export async function createAccountKey(url: string, adminKey: string, name: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ name }),
  })
  if (res.status !== 201) throw new Error(`POST /api/v1/accounts answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { secret: string }).secret
}
