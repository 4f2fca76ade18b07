import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './load.ts'
import { ENV_OPTIONS } from './schema.ts'

describe('loadConfig', () => {
  it('fills every default', () => {
    const config = loadConfig({})
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: './data' })
    expect(config.dispatcher.endpoint).toBe('tcp://127.0.0.1:5555')
    expect(config.limits).toEqual({ wallMs: 10_000, cpuMs: 5_000, memoryMb: 64, outputBytes: 1024 * 1024, outputs: 10_000 })
    expect(config.sessions).toEqual({ idleMs: 15 * 60_000, maxLifeMs: 60 * 60_000, maxPerClient: 5 })
    expect(config.retention).toEqual({ jobsMs: 30 * 24 * 60 * 60_000 })
    expect(config.notebooks).toEqual({ windowMs: 60 * 60_000, writesPerClient: 600, bytesPerClient: 20 * 1024 * 1024 })
  })

  it('reads the session options from the environment', () => {
    const config = loadConfig({ CELLGATE_SESSION_IDLE_MS: '500', CELLGATE_SESSION_MAX_LIFE_MS: '2000', CELLGATE_SESSIONS_PER_CLIENT: '2' })
    expect(config.sessions).toEqual({ idleMs: 500, maxLifeMs: 2000, maxPerClient: 2 })
  })

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellgate-config-'))
    const file = join(dir, 'cellgate.config.json')
    writeFileSync(file, JSON.stringify({ server: { port: 9000, host: '0.0.0.0' }, pool: { size: 4 } }))
    const config = loadConfig({ CELLGATE_CONFIG: file, PORT: '9100', CELLGATE_DEBUG: 'true' })
    expect(config.server).toMatchObject({ port: 9100, host: '0.0.0.0', debug: true })
    expect(config.pool.size).toBe(4)
  })

  it('names the option and its variable when a value is bad', () => {
    expect(() => loadConfig({ CELLGATE_WALL_MS: '3600000' })).toThrow(ConfigError)
    expect(() => loadConfig({ CELLGATE_WALL_MS: '3600000' })).toThrow(/limits\.wallMs \(CELLGATE_WALL_MS\)/)
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/server\.port \(PORT\)/)
  })

  it('refuses a bootstrap key that is not a key secret, and an unknown anonymous mode, naming the variable', () => {
    for (const weak of ['admin', 'cg_sk_short', `cg_sk_${'A'.repeat(42)}!`]) {
      expect(() => loadConfig({ CELLGATE_BOOTSTRAP_KEY: weak })).toThrow(/auth\.bootstrapKey \(CELLGATE_BOOTSTRAP_KEY\)/)
    }
    expect(() => loadConfig({ CELLGATE_ANONYMOUS: 'everything' })).toThrow(/auth\.anonymous \(CELLGATE_ANONYMOUS\)/)
    expect(() => loadConfig({ CELLGATE_KEY_CACHE_MS: '60000' })).toThrow(/CELLGATE_KEY_CACHE_MS/)
  })

  it('keeps text that looks like a number as text where the option is text', () => {
    expect(loadConfig({ CELLGATE_SERVER_ID: '1' }).server.id).toBe('1')
    expect(loadConfig({ CELLGATE_MONGODB_DB: '2024' }).store.mongodbDb).toBe('2024')
    expect(loadConfig({ PORT: '9000', CELLGATE_DEBUG: 'true' }).server).toMatchObject({ port: 9000, debug: true })
    expect(() => loadConfig({ CELLGATE_DEBUG: 'yes' })).toThrow(/server\.debug \(CELLGATE_DEBUG\)/)
  })

  it('puts every timing knob in the schema with its default', () => {
    const config = loadConfig({})
    expect(config.server).toMatchObject({ sweepIntervalMs: 5_000, streamHeartbeatMs: 15_000, streamPollMs: 500, helloIntervalMs: 2_000, dispatcherRequestTimeoutMs: 2_000 })
    expect(config.pool.startTimeoutMs).toBe(30_000)
    expect(config.dispatcher).toMatchObject({ metricsHost: '127.0.0.1', metricsPort: 9464 })
    expect(config.log.level).toBe('info')
    expect(loadConfig({ CELLGATE_LOG_LEVEL: 'debug', CELLGATE_SWEEP_INTERVAL_MS: '250' })).toMatchObject({ log: { level: 'debug' }, server: { sweepIntervalMs: 250 } })
    expect(() => loadConfig({ CELLGATE_LOG_LEVEL: 'loud' })).toThrow(/log\.level \(CELLGATE_LOG_LEVEL\)/)
  })

  it('documents every option in the README, with its default', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const defaults = loadConfig({})
    for (const [name, [section, key]] of Object.entries(ENV_OPTIONS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` | \`${section}.${key}\` |`))
      expect(row, `${name} in the README's configuration table`).toBeDefined()
      const value = (defaults[section] as Record<string, unknown>)[key]
      if (typeof value === 'number' || typeof value === 'boolean') expect(row, name).toContain(`| \`${String(value)}\` |`)
    }
  })

  it('reads OpenID Connect login from the environment: all of issuer, client id and secret, or none', () => {
    expect(loadConfig({}).auth.oidc).toBeUndefined()
    const all = { CELLGATE_OIDC_ISSUER: 'https://id.example.org', CELLGATE_OIDC_CLIENT_ID: 'cellgate', CELLGATE_OIDC_CLIENT_SECRET: 's'.repeat(32) }
    expect(loadConfig(all).auth.oidc).toEqual({ issuer: 'https://id.example.org', clientId: 'cellgate', clientSecret: 's'.repeat(32) })
    expect(() => loadConfig({ CELLGATE_OIDC_ISSUER: 'https://id.example.org' })).toThrow(/auth\.oidc\.clientId \(CELLGATE_OIDC_CLIENT_ID\)/)
    expect(() => loadConfig({ ...all, CELLGATE_OIDC_ISSUER: 'http://id.example.org' })).toThrow(/auth\.oidc\.issuer \(CELLGATE_OIDC_ISSUER\): must be https/)
    expect(loadConfig({ ...all, CELLGATE_OIDC_ISSUER: 'http://127.0.0.1:4000' }).auth.oidc?.issuer).toBe('http://127.0.0.1:4000')
    expect(() => loadConfig({ ...all, CELLGATE_OIDC_CLIENT_SECRET: 'short' })).toThrow(/CELLGATE_OIDC_CLIENT_SECRET/)
  })

  it('says which file is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellgate-config-'))
    const file = join(dir, 'bad.json')
    writeFileSync(file, '{ not json')
    expect(() => loadConfig({ CELLGATE_CONFIG: file })).toThrow(/bad\.json/)
  })

  it('reads SSH hosts from the environment and wants a key with them', () => {
    expect(loadConfig({}).ssh).toEqual({ hosts: [], trustNewHosts: false, sandboxCommand: '/opt/cellgate/bin/cellgate-sandbox' })
    const config = loadConfig({ CELLGATE_SSH_HOSTS: 'untrusted@10.0.0.2, untrusted@[fd00::2]:2222', CELLGATE_SSH_KEY: '/etc/cellgate/id_ed25519' })
    expect(config.ssh.hosts).toEqual([{ host: 'untrusted@10.0.0.2' }, { host: 'untrusted@[fd00::2]:2222' }])
    expect(() => loadConfig({ CELLGATE_SSH_HOSTS: 'untrusted@10.0.0.2' })).toThrow(/ssh\.keyPath \(CELLGATE_SSH_KEY\)/)
    expect(() => loadConfig({ CELLGATE_SSH_HOSTS: '10.0.0.2', CELLGATE_SSH_KEY: '/k' })).toThrow(/user@host\[:port\]/)
  })
})
