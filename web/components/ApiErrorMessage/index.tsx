/** A failed API request, said plainly: what went wrong and the server's own message (e.g. a 400's). */
import type { ApiRequestError } from '../../api.ts'
import './style.css'

function title(error: ApiRequestError): string {
  if (error.status === 0) return error.code === 'network' ? 'Cannot reach the server' : 'Something went wrong'
  if (error.status === 404) return 'Not found'
  if (error.status < 500) return `The server refused the request (${error.status} ${error.code})`
  return `The server failed (${error.status} ${error.code})`
}

/** @example <ApiErrorMessage error={new ApiRequestError(400, 'validation_failed', 'code: too long')} /> */
export function ApiErrorMessage({ error }: { error: ApiRequestError }) {
  return (
    <div class="api-error" role="alert">
      <strong class="api-error__title">{title(error)}</strong>
      <p class="api-error__message">{error.message}</p>
    </div>
  )
}
