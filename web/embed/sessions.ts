/**
 * Sessions shared by the linked cells of one page: every cell with
 * `data-cellgate-session="name"` runs in the session of that name, created on
 * the first run of any of them. A session the server no longer knows is
 * forgotten, so the next run starts a new one (the failed run shows why).
 *
 * A session holds memory in a sandbox and each computer may have only a few
 * at once, so a page must not leave its sessions behind: when it is closed
 * or reloaded (pagehide) it ends them, and forgets them in sessionStorage in
 * the same moment, so the next load cannot pick up one that is being ended.
 * While a page lives, its sessions' ids are kept there too (per cellgate,
 * key and name): a page that never got to pagehide (its tab crashed, the browser
 * was killed) is followed by one that reuses those sessions while they are
 * still active, rather than making more.
 */
import { ApiRequestError, type CellsApi } from '../api.ts'

export interface PageSessions {
  /** The id of the session named `name`, reused or created once (concurrent callers share the request). */
  idFor(name: string): Promise<string>
  /** Drops `name` if it still maps to `id`. */
  forget(name: string, id: string): void
  /** Ends every session this page holds, with requests that outlive the page; for pagehide. */
  endAll(): void
}

/**
 * `scope` tells apart the ids kept in the tab: the cellgate's origin, and the key the sessions are made with.
 * @example
 *   const sessions = pageSessions(api, origin)
 *   addEventListener('pagehide', () => sessions.endAll())
 *   await api.submitCell({ code, session: await sessions.idFor('demo') })
 */
export function pageSessions(api: CellsApi, scope: string): PageSessions {
  const pending = new Map<string, Promise<string>>()
  const held = new Map<string, string>()
  const stored = tabStorage(`cellgate-session ${scope} `)

  async function open(name: string): Promise<string> {
    const kept = stored.get(name)
    const reused = kept === null ? null : await stillActive(api, kept)
    const id = reused ?? (await api.createSession()).id
    held.set(name, id)
    stored.set(name, id)
    return id
  }

  return {
    idFor(name) {
      let id = pending.get(name)
      if (!id) {
        id = open(name)
        pending.set(name, id)
        // A failed create must not stick: the next run asks again.
        id.catch(() => pending.get(name) === id && pending.delete(name))
      }
      return id
    },
    forget(name, id) {
      if (held.get(name) !== id) return
      pending.delete(name)
      held.delete(name)
      stored.remove(name)
    },
    endAll() {
      for (const [name, id] of held) {
        void api.endSession(id, true).catch(() => {})
        stored.remove(name)
      }
      pending.clear()
      held.clear()
    },
  }
}

/** `id` if that session can still run cells; null when it has ended or the server no longer knows it. */
async function stillActive(api: CellsApi, id: string): Promise<string | null> {
  try {
    return (await api.getSession(id)).status === 'active' ? id : null
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 404) return null
    throw e
  }
}

/** This tab's sessionStorage under `prefix`; a page that may not use it (storage blocked) just keeps nothing. */
function tabStorage(prefix: string) {
  const attempt = <T>(fn: (storage: Storage) => T): T | null => {
    try {
      return fn(sessionStorage)
    } catch {
      return null
    }
  }
  return {
    get: (name: string) => attempt((s) => s.getItem(prefix + name)),
    set: (name: string, value: string) => attempt((s) => s.setItem(prefix + name, value)),
    remove: (name: string) => attempt((s) => s.removeItem(prefix + name)),
  }
}
