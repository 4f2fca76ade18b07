/**
 * Says that the server stopped answering while a cell was followed, so a
 * cell that shows "running" without end is explained; the follower keeps
 * trying, and the page drops this notice as soon as the server is back.
 */
import './style.css'

/** @example {run.connection === 'lost' && <ConnectionNotice />} */
export function ConnectionNotice() {
  return (
    <div class="connection-notice" role="alert">
      <strong class="connection-notice__title">Lost the connection to the server</strong>
      <p class="connection-notice__message">Still trying to reach it. What the cell shows meanwhile appears here once the server answers again.</p>
    </div>
  )
}
