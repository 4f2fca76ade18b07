/**
 * The prelude's entry point: what runs in every fresh context before the
 * cell. prelude.ts bundles this folder into one script whose completion
 * value is `enter`, the host's only way in. Nothing defined here is
 * reachable from the cell's global scope: the cell sees `console`,
 * `display`, the timer functions and the interact helpers (interact.ts),
 * and `post` only inside their closures.
 */
import { createConsole } from './console.ts'
import { clip, describeError, inspect, toJson } from './describe.ts'
import { createDisplay } from './display.ts'
import { createEmit } from './emit.ts'
import { harden } from './harden.ts'
import { controls, createInteract } from './interact.ts'
import { createTimers, type Timers } from './timers.ts'
import type { EnterCall, Post } from './wire.ts'

// Indirect eval runs the cell as global code, as a Script would, and returns
// its completion value: the REPL's "value of the last expression".
const globalEval = globalThis.eval
const PromiseClass = Promise
const defineProperty = Object.defineProperty

let timers: Timers | undefined

export function enter(...call: EnterCall): void {
  if (call[0] === 'fire') {
    timers?.fire(call[1])
    return
  }
  const [, post, source, outputBytes] = call
  harden(globalThis)
  const fail = (error: unknown): void => post('error', ...describeError(error))
  const emit = createEmit(post, outputBytes)
  timers = createTimers(post, fail)
  const display = createDisplay(emit)
  const globals: Record<string, unknown> = {
    ...timers.globals,
    ...controls,
    ...createInteract(emit, display),
    console: createConsole(emit),
    display,
  }
  for (const [name, value] of Object.entries(globals)) {
    defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false })
  }
  evaluate(source, post, fail)
}

function evaluate(source: string, post: Post, fail: (error: unknown) => void): void {
  const report = (value: unknown): void => {
    try {
      if (value === undefined) post('result')
      else post('result', clip(inspect(value)), toJson(value))
    } catch (error) {
      fail(error) // a getter or proxy that throws while being shown
    }
  }
  let value: unknown
  try {
    value = globalEval(source)
  } catch (error) {
    fail(error)
    return
  }
  // A cell with top-level await is wrapped in an async function (transform.ts);
  // a cell whose last value is a promise is awaited too, as the REPL does.
  if (value instanceof PromiseClass) value.then(report, fail)
  else report(value)
}
