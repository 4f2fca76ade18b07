/** A failed API request, said plainly: what went wrong and what to do (words.ts). */
import type { ApiRequestError } from '../../api.ts'
import { wordsFor } from './words.ts'
import './style.css'

/** @example <ApiErrorMessage error={new ApiRequestError(400, 'validation_failed', 'code: too long')} /> */
export function ApiErrorMessage({ error }: { error: ApiRequestError }) {
  const { title, message } = wordsFor(error)
  return (
    <div class="api-error" role="alert">
      <strong class="api-error__title">{title}</strong>
      <p class="api-error__message">{message}</p>
    </div>
  )
}
