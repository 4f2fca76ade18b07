/**
 * The prelude's entry point: what runs in every fresh context before the
 * cell. prelude.ts bundles this folder into one script whose completion
 * value is `enter`, the host's only way in. The memory ledger is installed
 * as it loads, before any cell code runs in the context (memory-ledger.ts), and so is
 * the bound on split (split-bound.ts). Nothing defined here is
 * reachable from the cell's global scope: the cell sees `console`,
 * `display`, the timer functions and the interact helpers (interact.ts),
 * and `post` only inside their closures.
 */
import { createConsole } from './console.ts'
import { clip, describeError, inspect, toJson } from './describe.ts'
import { createDisplay } from './display.ts'
import { createEmit } from './emit.ts'
import { harden } from './harden.ts'
import { installMemoryLedger } from './memory-ledger.ts'
import { installSplitBound } from './split-bound.ts'
import { controls, createInteract } from './interact.ts'
import { createTimers, type Timers } from './timers.ts'
import type { EnterCall, Post } from './wire.ts'

// Indirect eval runs the cell as global code, as a Script would, and returns
// its completion value: the REPL's "value of the last expression".
const globalEval = globalThis.eval
const PromiseClass = Promise
const defineProperty = Object.defineProperty

let timers: Timers | undefined
const ledger = installMemoryLedger(globalThis)
installSplitBound(globalThis)

export function enter(...call: EnterCall): void {
  if (call[0] === 'fire') {
    timers?.fire(call[1])
    return
  }
  // By index, here and below: destructuring runs an iterator, which a session's earlier cell may have replaced.
  const post = call[1]
  harden(globalThis)
  ledger.begin(call[5], post)
  const { emit, flush } = createEmit(post, { outputBytes: call[3], outputs: call[4] })
  // Only the first error ends the job (run-cell.ts): later ones are not posted.
  let failed = false
  const fail = (error: unknown): void => {
    if (failed) return
    failed = true
    flush()
    const described = describeError(error)
    post('error', described[0], described[1], described[2])
  }
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
  evaluate(call[2], post, fail, flush)
}

function evaluate(source: string, post: Post, fail: (error: unknown) => void, flush: () => void): void {
  const report = (value: unknown): void => {
    try {
      flush()
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
