/**
 * The one config for tests: the real schema with its defaults, the web tier
 * on a free loopback port and the dispatcher's metrics on a free port, then
 * the admin key ADMIN_KEY (test/support/principals.ts), then whatever sections the test sets.
 */
import type { z } from 'zod'
import { configSchema, type Config } from '../../config/schema.ts'
import { ADMIN_KEY } from './principals.ts'

export type TestConfigInput = z.input<typeof configSchema>

/**
 * @example
 *   testConfig({ server: { dataDir: tmp.dir }, sessions: { idleMs: 500 } })
 */
export function testConfig(sections: TestConfigInput = {}): Config {
  const { server, dispatcher, auth, ...rest } = sections
  return configSchema.parse({
    ...rest,
    server: { port: 0, host: '127.0.0.1', ...server },
    dispatcher: { metricsPort: 0, ...dispatcher },
    // Every test server has an admin key the test knows.
    auth: { bootstrapKey: ADMIN_KEY, ...auth },
  })
}
