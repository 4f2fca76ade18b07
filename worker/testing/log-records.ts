/**
 * Test support: a logger that keeps its records, parsed, in a list the test
 * reads, made like the process's own (createLogger, every level), so a test
 * sees exactly the JSON lines the process would write.
 */
import { createLogger, type Logger } from '../../telemetry/logger.ts'

/** One JSON log line, parsed: level, time, process, component, msg and the record's own fields. */
export type LogRecord = Record<string, unknown> & { level: number; msg?: string; component?: string }

/**
 * @example
 *   const { log, records } = recordingLogger()
 *   new LocalLauncher({ log })
 *   records.filter((r) => r.component === 'sandbox') // [{ sandboxId, stream, line, msg: 'sandbox output', … }]
 */
export function recordingLogger(processName = 'dispatcher'): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = []
  const log = createLogger(processName, { level: 'trace' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) })
  return { log, records }
}
