/**
 * Interacts: a cell declares controls and a function of their values;
 * cellgate's pages render the controls and, when one moves, run
 * `__cellgate_interact(id, values)` as a new cell of the same session, which
 * calls the function again.
 *
 *   interact({ n: slider(1, 100, 1, 10), go: button('Go') }, ({ n, go }) => n * 2)
 *
 * emits one display output of INTERACT_MIME, {id, controls: [{name, kind, …}]},
 * then calls the function with the initial values. What the function returns
 * (unless undefined) is shown as `display(value)` would show it, so everything
 * an interact shows is an output that follows the controls, which is what
 * the pages replace on each re-run. No protocol change: it is all outputs.
 *
 * The functions are kept here, in the prelude's module scope, which lives as
 * long as the context: across a session's cells, and for a one-off cell
 * only until it ends (its controls then have no function to call).
 */
import type { Display } from './display.ts'
import type { Emit } from './emit.ts'

declare const MAX_OUTPUT_CHUNK: number

export const INTERACT_MIME = 'application/vnd.cellgate.interact+json'

/** The oldest interacts of a session are forgotten past this: re-running a cell registers its interact again. */
const MAX_INTERACTS = 100

export interface Control {
  kind: 'slider' | 'text' | 'checkbox' | 'select' | 'button'
  name?: string
  label?: string
  value: unknown
  min?: number
  max?: number
  step?: number
  options?: unknown[]
}

interface Registered {
  fn: (values: Record<string, unknown>) => unknown
  values: Record<string, unknown>
}

const registry = new Map<string, Registered>()
const isArray = Array.isArray
const isFinite = Number.isFinite
const random = Math.random
const stringify = JSON.stringify
const PromiseClass = Promise

/** The control helpers, as cell globals. */
export const controls = {
  /** @example slider(0, 1, 0.1, 0.5, 'Opacity') */
  slider(min: unknown = 0, max: unknown = 100, step: unknown = 1, value?: unknown, label?: unknown): Control {
    const [lo, hi, by] = [Number(min), Number(max), Number(step)]
    if (!isFinite(lo) || !isFinite(hi) || lo > hi) throw new RangeError(`slider: expected min <= max, got ${String(min)} and ${String(max)}`)
    if (!isFinite(by) || by <= 0) throw new RangeError(`slider: step must be a positive number, got ${String(step)}`)
    const start = value === undefined ? lo : Number(value)
    if (!isFinite(start)) throw new RangeError(`slider: value must be a number, got ${String(value)}`)
    return { kind: 'slider', min: lo, max: hi, step: by, value: Math.min(hi, Math.max(lo, start)), ...labelOf(label) }
  },
  /** @example text('world', 'Name') */
  text: (value: unknown = '', label?: unknown): Control => ({ kind: 'text', value: String(value), ...labelOf(label) }),
  /** Another name for `text`. */
  input: (value: unknown = '', label?: unknown): Control => controls.text(value, label),
  /** @example checkbox(true, 'Show grid') */
  checkbox: (value: unknown = false, label?: unknown): Control => ({ kind: 'checkbox', value: Boolean(value), ...labelOf(label) }),
  /** Options are strings, numbers or booleans; the function gets the chosen one. @example select(['sin', 'cos'], 'cos') */
  select(options: unknown, value?: unknown, label?: unknown): Control {
    if (!isArray(options) || options.length === 0) throw new TypeError('select: expected a non-empty array of options')
    const list = options.map((o) => (['string', 'number', 'boolean'].includes(typeof o) ? o : String(o)))
    return { kind: 'select', options: list, value: list.includes(value) ? value : list[0], ...labelOf(label) }
  },
  /** Runs the function when pressed; its value is how many times it was pressed. @example button('Draw') */
  button: (label?: unknown): Control => ({ kind: 'button', value: 0, ...labelOf(label) }),
}

function labelOf(label: unknown): { label?: string } {
  return label === undefined ? {} : { label: String(label) }
}

function isControl(value: unknown): value is Control {
  return typeof value === 'object' && value !== null && typeof (value as Control).kind === 'string' && 'value' in value
}

/**
 * `interact` and `__cellgate_interact` for one cell: they emit through that
 * cell's `emit` and show return values with its `display`.
 */
export function createInteract(emit: Emit, display: Display) {
  const show = (value: unknown): unknown => {
    if (value instanceof PromiseClass) return value.then(show)
    if (value !== undefined) display(value)
    return undefined
  }

  function interact(spec: unknown, fn: unknown): unknown {
    if (typeof spec !== 'object' || spec === null) throw new TypeError('interact: expected an object of controls, e.g. {n: slider(1, 100)}')
    if (typeof fn !== 'function') throw new TypeError('interact: expected a function of the controls\' values')
    const list: Control[] = []
    const values: Record<string, unknown> = {}
    for (const [name, control] of Object.entries(spec)) {
      if (!isControl(control)) throw new TypeError(`interact: "${name}" is not a control (use slider, text, checkbox, select or button)`)
      const c = control
      list.push({ ...c, name, label: c.label ?? name })
      values[name] = c.value
    }
    const id = random().toString(36).slice(2, 12)
    const data = stringify({ id, controls: list })
    if (data.length > MAX_OUTPUT_CHUNK) throw new RangeError(`interact: its controls take ${data.length} characters; at most ${MAX_OUTPUT_CHUNK}`)
    registry.set(id, { fn: fn as Registered['fn'], values })
    if (registry.size > MAX_INTERACTS) registry.delete(registry.keys().next().value!)
    emit('display', INTERACT_MIME, data)
    return show(fn({ ...values }))
  }

  /** What a page runs when a control moves: the function again, with the new values over the last ones. */
  function rerun(id: unknown, values: unknown): unknown {
    const registered = registry.get(String(id))
    if (registered === undefined) {
      throw new ReferenceError('this interact is not in the session any more (the session is new, or the cell ran again): run its cell again')
    }
    if (typeof values === 'object' && values !== null) {
      for (const name of Object.keys(registered.values)) {
        if (name in values) registered.values[name] = (values as Record<string, unknown>)[name]
      }
    }
    return show(registered.fn({ ...registered.values }))
  }

  return { interact, __cellgate_interact: rerun }
}
