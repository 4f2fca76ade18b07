/**
 * Reads configuration once: defaults, then the JSON file named by
 * CELLGATE_CONFIG (or ./cellgate.config.json when it exists), then
 * environment variables. Throws ConfigError naming the bad option.
 */
import { existsSync, readFileSync } from 'node:fs'
import { configSchema, ENV_OPTIONS, type Config } from './schema.ts'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

/**
 * @example
 *   const config = loadConfig(process.env) // { server: { port: 8080, … }, … }
 */
export function loadConfig(env: Env = process.env): Config {
  const raw = readConfigFile(env)
  for (const [name, [section, key, kind]] of Object.entries(ENV_OPTIONS)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    const path = key.split('.')
    let target = (raw[section] ??= {}) as Record<string, unknown>
    for (const part of path.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>
    target[path.at(-1)!] = parseEnvValue(value, kind)
  }
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const path = issue.path.join('.')
    const envName = Object.entries(ENV_OPTIONS).find(([, [section, key]]) => `${section}.${key}` === path)?.[0]
    throw new ConfigError(`config ${path}${envName ? ` (${envName})` : ''}: ${issue.message}`)
  }
  return parsed.data
}

function readConfigFile(env: Env): Record<string, unknown> {
  const path = env.CELLGATE_CONFIG ?? (existsSync('cellgate.config.json') ? 'cellgate.config.json' : undefined)
  if (!path) return {}
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object')
    return value as Record<string, unknown>
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`)
  }
}

/**
 * Numbers and booleans come as text in the environment; each option says
 * which it is, so text that merely looks like a number (a server id `1`)
 * stays text. Text that is not what the option needs is left as it is, for
 * the schema to refuse with the option's name.
 */
function parseEnvValue(value: string, kind: 'string' | 'number' | 'boolean'): unknown {
  if (kind === 'boolean') return value === 'true' ? true : value === 'false' ? false : value
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value
  return value
}
