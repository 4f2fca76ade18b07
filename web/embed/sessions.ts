/**
 * Sessions shared by the linked cells of one page: every cell with
 * `data-cellgate-session="name"` runs in the session of that name, created on
 * the first run of any of them. A session the server no longer knows is
 * forgotten, so the next run starts a new one (the failed run shows why).
 */
import type { CellsApi } from '../api.ts'

export interface PageSessions {
  /** The id of the session named `name`, creating it once (concurrent callers share the request). */
  idFor(name: string): Promise<string>
  /** Drops `name` if it still maps to `id`. */
  forget(name: string, id: string): void
}

/** @example const sessions = pageSessions(api); await api.submitCell({ code, session: await sessions.idFor('demo') }) */
export function pageSessions(api: CellsApi): PageSessions {
  const ids = new Map<string, Promise<string>>()
  return {
    idFor(name) {
      let id = ids.get(name)
      if (!id) {
        id = api.createSession().then((s) => s.id)
        ids.set(name, id)
        // A failed create must not stick: the next run asks again.
        id.catch(() => ids.get(name) === id && ids.delete(name))
      }
      return id
    },
    forget(name, id) {
      void ids.get(name)?.then((known) => known === id && ids.delete(name), () => {})
    },
  }
}
