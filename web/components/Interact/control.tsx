/**
 * One labelled native control of an interact: a range with its value shown,
 * a text box, a checkbox, a select or a button. Native elements keep
 * keyboard use and screen readers working with no extra ARIA.
 */
import type { Control, ControlValue } from './data.ts'

export interface InteractControlProps {
  control: Control
  value: ControlValue
  disabled: boolean
  /** `now`: run at once rather than after the debounce. */
  onChange(value: ControlValue, now?: boolean): void
}

/** @example <InteractControl control={{ kind: 'checkbox', name: 'on', label: 'On', value: true }} value={true} disabled={false} onChange={set} /> */
export function InteractControl({ control, value, disabled, onChange }: InteractControlProps) {
  switch (control.kind) {
    case 'slider':
      return (
        <label class="interact-control">
          <span class="interact-control__label">{control.label}</span>
          <input
            type="range"
            min={control.min}
            max={control.max}
            step={control.step}
            value={Number(value)}
            disabled={disabled}
            onInput={(e) => onChange(Number(e.currentTarget.value))}
          />
          <output class="interact-control__value">{String(value)}</output>
        </label>
      )
    case 'text':
      return (
        <label class="interact-control">
          <span class="interact-control__label">{control.label}</span>
          <input type="text" value={String(value)} disabled={disabled} onInput={(e) => onChange(e.currentTarget.value)} />
        </label>
      )
    case 'checkbox':
      return (
        <label class="interact-control">
          <input type="checkbox" checked={Boolean(value)} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked, true)} />
          <span class="interact-control__label">{control.label}</span>
        </label>
      )
    case 'select':
      return (
        <label class="interact-control">
          <span class="interact-control__label">{control.label}</span>
          {/* Options by index: their values may be numbers or booleans, which an <option>'s value would turn into text. */}
          <select value={String(control.options.indexOf(value))} disabled={disabled} onChange={(e) => onChange(control.options[Number(e.currentTarget.value)]!, true)}>
            {control.options.map((option, i) => (
              <option key={i} value={String(i)}>
                {String(option)}
              </option>
            ))}
          </select>
        </label>
      )
    case 'button':
      return (
        <button type="button" class="interact-control interact-control__button" disabled={disabled} onClick={() => onChange(Number(value) + 1, true)}>
          {control.label}
        </button>
      )
  }
}
