/**
 * Where an interact's controls run its function again: the cellgate API and
 * the session the cell ran in. Pages that run cells in a session (the
 * notebook, linked embeds) provide it around their outputs; elsewhere there
 * is no session, and the controls say they need one.
 */
import { createContext } from 'preact'
import { sameOriginApi, type CellsApi } from '../../api.ts'

export interface InteractHost {
  api: CellsApi
  /** The session's id; null when there is none (yet). */
  session: string | null
}

/** @example <InteractContext.Provider value={{ api, session: sessionId }}>…</InteractContext.Provider> */
export const InteractContext = createContext<InteractHost>({ api: sameOriginApi, session: null })
