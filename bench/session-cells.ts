/**
 * Scenario "cells in sessions": each connection opens its own session
 * (POST /api/v1/sessions → {id}) and then submits trivial cells into it
 * (POST /api/v1/cells?wait=true {code, session}), as a notebook does.
 * Where the server has no sessions API (the route answers 404), the
 * scenario is skipped, not failed.
 */
import { runCannon } from './cannon.ts'
import type { ScenarioResult } from './scenario-result.ts'
import { TRIVIAL_CODE } from './trivial-cell.ts'

export const NO_SESSIONS = 'no sessions API'

/** Why sessions cannot be benchmarked at baseUrl, or undefined when they can. */
export async function sessionsMissing(baseUrl: string): Promise<string | undefined> {
  const res = await fetch(`${baseUrl}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const body = await res.text()
  if (res.status === 404 || res.status === 405) return NO_SESSIONS
  if (res.status >= 300) return `POST /api/v1/sessions answered ${res.status}: ${body.slice(0, 200)}`
  await closeSession(baseUrl, (JSON.parse(body) as { id: string }).id)
  return undefined
}

/**
 * @example
 *   if (!(await sessionsMissing(url))) console.log(await runSessionCells(url, 8, 10))
 */
export async function runSessionCells(baseUrl: string, connections: number, durationSeconds: number): Promise<ScenarioResult> {
  const sessions = await Promise.all(Array.from({ length: connections }, () => openSession(baseUrl)))
  let next = 0
  try {
    return await runCannon('cells in sessions', {
      url: `${baseUrl}/api/v1/cells?wait=true`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // One session per connection: a notebook's cells run one after another.
      setupClient: (client) => client.setBody(JSON.stringify({ code: TRIVIAL_CODE, session: sessions[next++ % sessions.length] })),
    }, connections, durationSeconds)
  } finally {
    await Promise.all(sessions.map((id) => closeSession(baseUrl, id)))
  }
}

async function openSession(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  if (res.status >= 300) throw new Error(`POST /api/v1/sessions answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { id: string }).id
}

/** Ends a session so its state does not outlive the run; a server that keeps them anyway is not an error here. */
async function closeSession(baseUrl: string, id: string): Promise<void> {
  await fetch(`${baseUrl}/api/v1/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' }).then((res) => res.body?.cancel(), () => {})
}
