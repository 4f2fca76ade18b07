/**
 * One structured logger per process (pino, one JSON object per line), made
 * once by the entry point from config.log and passed down; each component
 * logs through a child that names it, e.g.
 *
 *   {"level":40,"time":…,"process":"server","component":"jobs","jobs":12,"msg":"storing a batch failed"}
 *
 * Components take a Logger, never make one: tests hand them a logger that
 * writes nowhere (`silentLogger()`) or into a list they read.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogConfig } from '../config/schema.ts'

export type { Logger }

/**
 * @example
 *   const log = createLogger('dispatcher', config.log)
 *   log.child({ component: 'pool' }).warn({ sandbox: id, err }, 'sandbox exited')
 */
export function createLogger(processName: string, config: LogConfig, destination?: DestinationStream): Logger {
  return pino({ level: config.level, base: { process: processName, pid: process.pid } }, destination ?? pino.destination({ fd: 1, sync: false }))
}

/** A logger that drops everything, for tests and tools that have nothing to say. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
