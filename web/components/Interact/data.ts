/**
 * The interact output a cell emits (sandbox/isolate/interact.ts): its mime
 * type and a reader for its data. The data is untrusted (any saved notebook
 * can hold any output), so it is checked here, where it enters the page, and
 * an output that does not fit is shown as plain text instead.
 */

export const INTERACT_MIME = 'application/vnd.cellgate.interact+json'

export type ControlValue = string | number | boolean

export type Control =
  | { kind: 'slider'; name: string; label: string; value: number; min: number; max: number; step: number }
  | { kind: 'text'; name: string; label: string; value: string }
  | { kind: 'checkbox'; name: string; label: string; value: boolean }
  | { kind: 'select'; name: string; label: string; value: ControlValue; options: ControlValue[] }
  | { kind: 'button'; name: string; label: string; value: number }

export interface InteractData {
  id: string
  controls: Control[]
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isString = (v: unknown): v is string => typeof v === 'string'
const isValue = (v: unknown): v is ControlValue => isString(v) || isNumber(v) || typeof v === 'boolean'

/** @example readInteract('{"id":"k2","controls":[{"kind":"checkbox","name":"on","label":"on","value":true}]}') */
export function readInteract(data: string): InteractData | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { id, controls } = parsed as Record<string, unknown>
  if (!isString(id) || !Array.isArray(controls) || !controls.every(isControl)) return null
  return { id, controls }
}

function isControl(c: unknown): c is Control {
  if (typeof c !== 'object' || c === null) return false
  const { kind, name, label, value, min, max, step, options } = c as Record<string, unknown>
  if (!isString(name) || !isString(label)) return false
  switch (kind) {
    case 'slider':
      return isNumber(value) && isNumber(min) && isNumber(max) && isNumber(step) && step > 0
    case 'text':
      return isString(value)
    case 'checkbox':
      return typeof value === 'boolean'
    case 'select':
      return isValue(value) && Array.isArray(options) && options.every(isValue)
    case 'button':
      return isNumber(value)
    default:
      return false
  }
}
