/**
 * The optional per-cell limits a request may set. Left empty, the server's
 * defaults apply; out-of-range values are the server's to refuse (its 400
 * message is shown), so the rules live in one place.
 */
import './style.css'

export interface LimitsValue {
  /** As typed; '' means "server default". */
  timeoutMs: string
  memoryMb: string
}

export interface LimitsFieldsProps {
  value: LimitsValue
  onChange(value: LimitsValue): void
}

/** @example <LimitsFields value={limits} onChange={setLimits} /> */
export function LimitsFields({ value, onChange }: LimitsFieldsProps) {
  return (
    <fieldset class="limits-fields">
      <legend class="visually-hidden">Limits</legend>
      <label class="limits-fields__field">
        <span>Time limit (ms)</span>
        <input
          type="number"
          inputMode="numeric"
          min={1}
          step={1}
          placeholder="default"
          value={value.timeoutMs}
          onInput={(e) => onChange({ ...value, timeoutMs: e.currentTarget.value })}
        />
      </label>
      <label class="limits-fields__field">
        <span>Memory (MB)</span>
        <input
          type="number"
          inputMode="numeric"
          min={1}
          step={1}
          placeholder="default"
          value={value.memoryMb}
          onInput={(e) => onChange({ ...value, memoryMb: e.currentTarget.value })}
        />
      </label>
    </fieldset>
  )
}

/** The request fields for what was typed: empty fields are left out. */
export function limitsRequest(value: LimitsValue): { timeoutMs?: number; memoryMb?: number } {
  const request: { timeoutMs?: number; memoryMb?: number } = {}
  if (value.timeoutMs.trim() !== '') request.timeoutMs = Number(value.timeoutMs)
  if (value.memoryMb.trim() !== '') request.memoryMb = Number(value.memoryMb)
  return request
}
