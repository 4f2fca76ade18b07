/**
 * How a job looks to HTTP clients: the stored record plus its outputs, with
 * ISO timestamps and links, minus what only the server needs (dispatcher
 * boot, sandbox id, priority). The shape is the protocol's (protocol/http-views.ts).
 */
import { API_BASE, type JobLinks, type JobView, type Output } from '../protocol/index.ts'
import type { JobRecord } from './store/port.ts'

/** @example jobLinks('AbC123xyz0_-AbCd') // { self: '/api/v1/cells/AbC…', events: '/api/v1/cells/AbC…/events' } */
export function jobLinks(id: string): JobLinks {
  const self = `${API_BASE}/cells/${id}`
  return { self, events: `${self}/events` }
}

export function toJobView(job: JobRecord, outputs: Output[]): JobView {
  return {
    id: job.id,
    status: job.status,
    code: job.code,
    owner: job.owner,
    limits: job.limits,
    outputs,
    result: job.result,
    error: job.error,
    usage: job.usage,
    createdAt: iso(job.createdAt),
    startedAt: job.startedAt === null ? null : iso(job.startedAt),
    endedAt: job.endedAt === null ? null : iso(job.endedAt),
    session: job.session?.id ?? null,
    links: jobLinks(job.id),
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
