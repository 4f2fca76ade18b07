/**
 * What a failed request means, in words for whoever sees it: a reader of a
 * course page with embedded cells as much as a developer. Answers a reader
 * can meet without doing anything wrong (too many sessions, an ended
 * session, a busy or lost server) are said with what to do next; the
 * server's own message, written for API clients, would tell a student to
 * send DELETE requests. Anything else keeps the server's message (a 400's
 * says what to change in the request).
 */
import type { ApiRequestError } from '../../api.ts'

export interface ErrorWords {
  title: string
  message: string
}

const FOR_READERS: Record<string, ErrorWords> = {
  too_many_sessions: {
    title: 'Too many live cells are open',
    message: 'Too many live cells are open from this computer. Close other pages with cells, or wait a few minutes, then press Run again.',
  },
  session_ended: {
    title: 'The session of these cells has ended',
    message: 'What the cells before this one defined is gone (the session was idle too long, or was stopped). Press Run again to start afresh, running those cells first.',
  },
  network: {
    title: 'Cannot reach the server',
    message: 'Check the connection to the internet, then try again.',
  },
  unavailable: {
    title: 'The server cannot run cells just now',
    message: 'It is busy or starting up. Wait a moment, then try again.',
  },
}

/** @example wordsFor(new ApiRequestError(429, 'too_many_sessions', '…DELETE /api/v1/sessions/:id…')).message */
export function wordsFor(error: ApiRequestError): ErrorWords {
  return FOR_READERS[error.code] ?? { title: title(error), message: error.message }
}

function title(error: ApiRequestError): string {
  if (error.status === 0) return 'Something went wrong'
  if (error.status === 404) return 'Not found'
  if (error.status < 500) return `The server refused the request (${error.status} ${error.code})`
  return `The server failed (${error.status} ${error.code})`
}
