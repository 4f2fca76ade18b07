/**
 * A logger that keeps its records, parsed, in a list the test reads, made
 * like a process's own (createLogger, every level), so a test sees exactly
 * the JSON lines the process would write.
 */
import { createLogger, type Logger } from '../../telemetry/logger.ts'

/** One JSON log line, parsed: level (a number), time, process, component, msg and the record's own fields. */
export type LogRecord = Record<string, unknown> & { level: number; msg?: string; component?: string }

/**
 * @example
 *   const { logger, records } = capturingLogger()
 *   new LocalLauncher({ log: logger })
 *   records.filter((r) => r.component === 'sandbox') // [{ sandboxId, stream, line, msg: 'sandbox output', … }]
 */
export function capturingLogger(processName = 'test'): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = []
  const logger = createLogger(processName, { level: 'trace' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) })
  return { logger, records }
}
