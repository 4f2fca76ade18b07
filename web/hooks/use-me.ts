/**
 * Who the page acts for (GET /api/v1/me), shared by every part of the app
 * that shows or needs it: the header's name and Log out, the pages that
 * only make sense logged in. One value for the whole app, asked of the
 * server once at start and again after logging in or out (refreshMe), so
 * the header changes the moment the login page succeeds.
 */
import { useEffect, useState } from 'preact/hooks'
import { accountApi, type MeView } from '../account-api.ts'

/** `null` until the server has answered (or when it could not be asked: then as anonymous). */
export type MeState = MeView | null

let current: MeState = null
let asked: Promise<void> | null = null
const listeners = new Set<(me: MeState) => void>()

/**
 * Asks the server again who the page is; resolves once every user of useMe sees the answer.
 * @example await accountApi.login(body); await refreshMe()
 */
export function refreshMe(): Promise<void> {
  asked = accountApi.me().then(
    (me) => publish(me),
    // An unreadable login cookie (revoked elsewhere, say) is 401: the page is anonymous.
    () => publish({ anonymous: true, scopes: [] }),
  )
  return asked
}

function publish(me: MeView): void {
  current = me
  for (const listener of listeners) listener(me)
}

/** @example const me = useMe(); if (me && !me.anonymous) return <p>{me.account.name}</p> */
export function useMe(): MeState {
  const [me, setMe] = useState<MeState>(current)
  useEffect(() => {
    listeners.add(setMe)
    if (asked === null) void refreshMe()
    else setMe(current)
    return () => void listeners.delete(setMe)
  }, [])
  return me
}
