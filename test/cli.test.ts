/**
 * The operator's CLI (`cellgate keys …`, `cellgate accounts …`) run as a
 * real process on the data directory of a running cellgate, and what that
 * cellgate then accepts over HTTP:
 *
 *   test --spawn--> cellgate accounts/keys --SQLite file--+
 *   test --HTTP--> server ---------------- same file -----+
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_PATH } from '../bin/node-command.ts'
import { loadConfig } from '../config/load.ts'
import { ADMIN_KEY, withKey } from './support/principals.ts'
import { startTestCluster, type TestCluster } from './support/test-cluster.ts'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const SECRET = /^cg_sk_[A-Za-z0-9_-]{43}$/

describe('the cellgate CLI on a running server\'s store', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startTestCluster()
  })
  afterAll(async () => {
    await cluster?.close()
  })

  function cellgate(args: string[], stdin = ''): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, ...args], { env: { ...process.env, ...cluster.env }, stdio: 'pipe' })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => (stdout += String(chunk)))
      child.stderr.on('data', (chunk) => (stderr += String(chunk)))
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(stdin)
    })
  }

  async function secretOf(args: string[], stdin?: string): Promise<string> {
    const run = await cellgate(args, stdin)
    expect(run, run.stderr).toMatchObject({ code: 0 })
    const secret = run.stdout.trim()
    expect(secret).toMatch(SECRET)
    return secret
  }

  const runCell = (key: string) => fetch(`${cluster.url}/api/v1/cells?wait=true`, {
    method: 'POST', headers: withKey(key, { 'content-type': 'application/json' }), body: JSON.stringify({ code: '6 * 7' }),
  })

  it('makes an account whose first key runs cells and whose password logs in', async () => {
    const secret = await secretOf(['accounts', 'create', 'ada', '--password-stdin'], 'correct horse battery\n')
    const res = await runCell(secret)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'done', result: { text: '42' } })
    const me = await (await fetch(`${cluster.url}/api/v1/me`, { headers: withKey(secret) })).json()
    expect(me).toMatchObject({ anonymous: false, account: { name: 'ada', role: 'user', login: { password: true } } })

    const login = await fetch(`${cluster.url}/api/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', password: 'correct horse battery' }),
    })
    expect(login.status).toBe(200)
  })

  it('makes a key with only the scopes asked for, listed with the account\'s keys', async () => {
    const secret = await secretOf(['keys', 'create', '--account', 'ada', '--name', 'runner', '--scopes', 'cells:run', '--expires', '1d'])
    expect((await runCell(secret)).status).toBe(200)
    const session = await fetch(`${cluster.url}/api/v1/sessions`, { method: 'POST', headers: withKey(secret) })
    expect(session.status).toBe(403)
    expect(((await session.json()) as { error: { message: string } }).error.message).toContain('sessions:use')

    const list = await cellgate(['keys', 'list', '--account', 'ada'])
    expect(list.code).toBe(0)
    // The first key, the key behind the login above, and this one.
    const lines = list.stdout.trim().split('\n')
    expect(lines.map((line) => /"([^"]*)"/.exec(line)?.[1])).toEqual(['first key', expect.stringContaining('login'), 'runner'])
    expect(lines[2]).toMatch(/^[A-Za-z0-9_-]{16} .* secret, scopes cells:run, expires 20/)
    // Listed by prefix, never by its secret.
    expect(list.stdout).not.toContain(secret)
    expect(lines[2]).toContain(secret.slice(0, 12))
  })

  it('revokes a key: the server refuses it at once with 401, and its sibling still works', async () => {
    const doomed = await secretOf(['keys', 'create', '--account', 'ada', '--name', 'doomed'])
    const kept = await secretOf(['keys', 'create', '--account', 'ada', '--name', 'kept'])
    expect((await runCell(doomed)).status).toBe(200)
    const me = (await (await fetch(`${cluster.url}/api/v1/me`, { headers: withKey(doomed) })).json()) as { key: { id: string } }

    const revoke = await cellgate(['keys', 'revoke', me.key.id])
    expect(revoke.code).toBe(0)
    const refused = await runCell(doomed)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect((await runCell(kept)).status).toBe(200)
    expect((await cellgate(['keys', 'list', '--account', 'ada'])).stdout).toMatch(/"doomed".*revoked 20/)
  })

  it('disables an account: every key of it gets 401', async () => {
    const first = await secretOf(['accounts', 'create', 'temp'])
    const other = await secretOf(['keys', 'create', '--account', 'temp', '--name', 'other'])
    expect((await runCell(other)).status).toBe(200)
    expect((await cellgate(['accounts', 'disable', 'temp'])).code).toBe(0)
    expect((await runCell(first)).status).toBe(401)
    expect((await runCell(other)).status).toBe(401)
  })

  it('makes an admin whose key opens the admin routes', async () => {
    const secret = await secretOf(['accounts', 'create', 'root2', '--admin'])
    expect((await fetch(`${cluster.url}/api/v1/workers`, { headers: withKey(secret) })).status).toBe(200)
  })

  it('audits what it did as client cli', async () => {
    const res = await fetch(`${cluster.url}/api/v1/audit?limit=500`, { headers: withKey(ADMIN_KEY) })
    const { records } = (await res.json()) as { records: { action: string; client: string; detail: Record<string, unknown> }[] }
    const byCli = records.filter((r) => r.client === 'cli').map((r) => r.action)
    expect(byCli).toEqual(expect.arrayContaining(['account.created', 'key.created', 'key.revoked', 'account.disabled']))
    expect(records.find((r) => r.action === 'account.created' && r.detail.name === 'ada')?.client).toBe('cli')
  })

  it('prints a fresh secret the server takes as CELLGATE_BOOTSTRAP_KEY', async () => {
    const [a, b] = [await secretOf(['keys', 'secret']), await secretOf(['keys', 'secret'])]
    expect(a).not.toBe(b)
    expect(loadConfig({ CELLGATE_BOOTSTRAP_KEY: a }).auth.bootstrapKey).toBe(a)
  })

  it('refuses what it cannot do, saying why, and changes nothing', async () => {
    const cases: [string[], number, RegExp][] = [
      [['keys', 'create', '--account', 'ada', '--name', 'x', '--scopes', 'admin'], 1, /refused \(scopes\): an account of role user does not have the scope admin/],
      [['keys', 'create', '--account', 'nobody', '--name', 'x'], 1, /no account named "nobody"/],
      [['keys', 'create', '--account', 'ada', '--name', 'x', '--scopes', 'cells:fly'], 1, /scopes\.0/],
      [['keys', 'create', '--account', 'ada', '--name', 'x', '--expires', 'soon'], 2, /--expires/],
      [['keys', 'create', '--account', 'ada'], 2, /--account and --name are required/],
      [['keys', 'revoke', 'AAAAAAAAAAAAAAAA'], 1, /no key "AAAAAAAAAAAAAAAA"/],
      // Key ids are base64url: one in 64 starts with '-', which must be taken as the id, not as an option.
      [['keys', 'revoke', '-AAAAAAAAAAAAAAA'], 1, /no key "-AAAAAAAAAAAAAAA"/],
      [['accounts', 'create', 'ada'], 1, /already an account named ada/],
      [['accounts', 'create', 'anonymous'], 1, /anonymous is the server's own/],
      [['accounts', 'create', 'bad name'], 1, /name: /],
      [['accounts', 'create', 'shortpw', '--password-stdin'], 1, /password: must be at least 12 characters/],
      [['accounts', 'frobnicate'], 2, /usage: cellgate accounts/],
      [['keys', 'list', '--acount', 'ada'], 2, /Unknown option '--acount'/],
    ]
    for (const [args, code, message] of cases) {
      const run = await cellgate(args, 'short\n')
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code, stdout: '' })
      expect(run.stderr).toMatch(message)
      expect(run.stderr).not.toMatch(/\n\s+at /)
    }
    expect((await cellgate(['keys', 'list', '--account', 'ada'])).stdout).not.toContain('"x"')
  })
})
