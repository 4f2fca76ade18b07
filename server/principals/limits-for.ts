/**
 * The limits a cell runs with: what it asked for, else the deployment's
 * default lowered to the key's cap. A cell that asks for more than its
 * key's cap was refused before this (authorize, 403 `caps`), so a cap is
 * both a ceiling on asking and the default for not asking.
 */
import type { Limits } from '../../protocol/index.ts'
import type { Caps } from './rights.ts'

export interface AskedLimits {
  timeoutMs?: number | undefined
  memoryMb?: number | undefined
  outputs?: number | undefined
}

/**
 * @example
 *   limitsFor(config.limits, { wallMs: 2000 }, {}) // { wallMs: 2000, cpuMs: 5000, … }
 */
export function limitsFor(defaults: Limits, caps: Caps, asked: AskedLimits): Limits {
  const capped = (name: keyof Limits) => Math.min(defaults[name], caps[name] ?? Infinity)
  return {
    wallMs: asked.timeoutMs ?? capped('wallMs'),
    cpuMs: capped('cpuMs'),
    memoryMb: asked.memoryMb ?? capped('memoryMb'),
    outputBytes: capped('outputBytes'),
    outputs: asked.outputs ?? capped('outputs'),
  }
}
