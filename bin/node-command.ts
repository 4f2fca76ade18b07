/**
 * How cellgate starts one of its own processes: the same Node binary, with
 * tsx to load TypeScript, and --no-node-snapshot where isolated-vm runs
 * (Node 20 needs it for isolated-vm).
 */
import { fileURLToPath } from 'node:url'

export const CLI_PATH = fileURLToPath(new URL('./cellgate.ts', import.meta.url))

/**
 * @example
 *   const [cmd, args] = nodeCommand('server') // [process.execPath, ['--import', 'tsx', '/repo/bin/cellgate.ts', 'server']]
 */
export function nodeCommand(role: 'server' | 'dispatcher' | 'sandbox'): [string, string[]] {
  const flags = role === 'sandbox' ? ['--no-node-snapshot'] : []
  return [process.execPath, [...flags, '--import', 'tsx', CLI_PATH, role]]
}
