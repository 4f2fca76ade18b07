/**
 * The keys of notebooks this browser made without logging in. Such a
 * notebook belongs to nobody, and comes with a key that saves it and
 * nothing else (POST /api/v1/notebooks answers it once): kept here, in
 * localStorage per notebook id, its author can go on saving from this
 * browser, and nobody else can. A notebook made while logged in has no
 * key: the login cookie saves it. A notebook made anonymously stays so
 * after logging in, so its key is still what saves it then.
 */

const PREFIX = 'cellgate.notebook-key.'

/** @example rememberNotebookKey(saved.id, saved.key) */
export function rememberNotebookKey(id: string, key: string): void {
  try {
    localStorage.setItem(PREFIX + id, key)
  } catch {
    // Storage refused (private mode, quota): the notebook is saved; later saves from this page will say they are refused.
  }
}

/** The key this browser holds for the notebook; undefined when none (then the login, if any, saves it). */
export function notebookKey(id: string): string | undefined {
  try {
    return localStorage.getItem(PREFIX + id) ?? undefined
  } catch {
    return undefined
  }
}
