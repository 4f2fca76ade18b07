/**
 * `cellgate keys …`: the operator's hand on keys, for scripts and for the
 * first key of an account nobody can log in to yet.
 *
 *   keys create --account <name> --name <n> [--scopes a,b] [--expires <ISO or 30d>]
 *                               a root key of the account; prints its secret (once) on stdout
 *   keys list --account <name>  every key of the account, revoked ones too
 *   keys revoke <id>            revokes the key and its whole subtree
 *   keys secret                 prints a fresh cg_sk_ secret, for CELLGATE_BOOTSTRAP_KEY
 *
 * A root key made here holds what the account's role allows (fullGrant),
 * narrowed by the options through the same narrow() as a sub-key, so
 * asking a user's key for `admin` is refused the same way. Revoking here
 * reaches every web instance through the store; one whose key cache is on
 * (CELLGATE_KEY_CACHE_MS) may accept the key for that much longer.
 */
import { keyRequestSchema } from '../protocol/index.ts'
import { audit } from '../server/principals/audit.ts'
import { newKeySecret } from '../server/principals/key-secret.ts'
import { createRootKey } from '../server/principals/keys.ts'
import { fullGrant } from '../server/principals/principal.ts'
import { narrow } from '../server/principals/rights.ts'
import { toKeyView } from '../server/principals/views.ts'
import type { KeyRecord } from '../server/store/principals-port.ts'
import { CliError } from './cli-error.ts'
import { accountNamed, firstIssue, OPERATOR, parseCli, withStore, type CliOutput } from './operator.ts'

export const KEYS_USAGE = [
  'usage: cellgate keys create --account <name> --name <name> [--scopes a,b] [--expires <ISO time or 30d, 12h, 15m>]',
  '       cellgate keys list --account <name>',
  '       cellgate keys revoke <key id>',
  '       cellgate keys secret',
].join('\n')

const createInput = keyRequestSchema.pick({ name: true, scopes: true, expiresAt: true })

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * @example
 *   await runKeys(['create', '--account', 'ada', '--name', 'ci', '--expires', '30d'], CONSOLE)
 */
export async function runKeys(args: string[], io: CliOutput): Promise<void> {
  const [command, ...rest] = args
  switch (command) {
    case 'create':
      return create(rest, io)
    case 'list':
      return list(rest, io)
    case 'revoke':
      return revoke(rest, io)
    case 'secret':
      parseCli(rest, {}, KEYS_USAGE)
      io.out(newKeySecret('secret').secret)
      return
    default:
      throw new CliError(KEYS_USAGE, 2)
  }
}

async function create(args: string[], io: CliOutput): Promise<void> {
  const { values } = parseCli(args, { account: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' } }, KEYS_USAGE)
  if (values.account === undefined || values.name === undefined) throw new CliError(`--account and --name are required\n${KEYS_USAGE}`, 2)
  const now = Date.now()
  const input = createInput.safeParse({
    name: values.name,
    ...(values.scopes !== undefined && { scopes: values.scopes.split(',').map((s) => s.trim()).filter(Boolean) }),
    ...(values.expires !== undefined && { expiresAt: expiryOf(values.expires, now) }),
  })
  if (!input.success) throw new CliError(firstIssue(input.error))
  const { name, scopes, expiresAt } = input.data
  await withStore(async (store) => {
    const account = await accountNamed(store, values.account!)
    const narrowed = narrow(fullGrant(account.role), { ...(scopes && { scopes }), ...(expiresAt != null && { expiresAt }) })
    if ('refusal' in narrowed) throw new CliError(`refused (${narrowed.refusal.dimension}): ${narrowed.refusal.message.replace('the parent key', `an account of role ${account.role}`)}`)
    const made = await createRootKey(store, account, { name, grant: narrowed.grant, kind: 'secret' }, now)
    if ('refusal' in made) throw new CliError(`refused (${made.refusal.dimension}): ${made.refusal.message}`)
    await audit(store, OPERATOR, 'key.created', { keyId: made.record.id, kind: made.record.kind, parentId: null, accountId: account.id }, now)
    io.note(`made key ${made.record.id} "${name}" of account ${account.name}: ${describe(made.record)}. Its secret, shown this once:`)
    io.out(made.secret)
  })
}

async function list(args: string[], io: CliOutput): Promise<void> {
  const { values } = parseCli(args, { account: { type: 'string' } }, KEYS_USAGE)
  if (values.account === undefined) throw new CliError(`--account is required\n${KEYS_USAGE}`, 2)
  await withStore(async (store) => {
    const account = await accountNamed(store, values.account!)
    const keys = await store.listAccountKeys(account.id)
    if (keys.length === 0) io.note(`account ${account.name} has no keys`)
    for (const key of keys) io.out(`${key.id}  ${key.prefix}…  ${JSON.stringify(key.name)}  ${describe(key)}`)
  })
}

async function revoke(args: string[], io: CliOutput): Promise<void> {
  // Not parsed for options: it takes none, and a key id may start with '-' (ids are base64url).
  const [id, ...more] = args[0] === '--' ? args.slice(1) : args
  if (id === undefined || more.length > 0) throw new CliError(`name one key id\n${KEYS_USAGE}`, 2)
  await withStore(async (store) => {
    const key = await store.getKey(id)
    if (key === null) throw new CliError(`no key ${JSON.stringify(id)}`)
    const now = Date.now()
    const revoked = await store.revokeKeyTree(id, now)
    if (revoked > 0) await audit(store, OPERATOR, 'key.revoked', { keyId: id, revoked }, now)
    io.out(revoked > 0 ? `revoked key ${id} and ${revoked - 1} key(s) below it` : `key ${id} and every key below it were revoked already`)
  })
}

/** `--expires`: an ISO 8601 time or date (a date is its midnight UTC), or a span from now such as 30d, 12h, 15m, 90s. */
function expiryOf(text: string, now: number): number {
  const span = /^(\d{1,9})([smhd])$/.exec(text.trim())
  if (span) return now + Number(span[1]) * UNIT_MS[span[2]!]!
  const at = Date.parse(text)
  if (Number.isNaN(at)) throw new CliError(`--expires: ${JSON.stringify(text)} is neither an ISO time such as 2027-01-31T00:00:00Z nor a span such as 30d, 12h, 15m`, 2)
  // A key that never works is a typing mistake, not a request.
  if (at <= now) throw new CliError(`--expires: ${new Date(at).toISOString()} has passed`, 2)
  return at
}

function describe(key: KeyRecord): string {
  const view = toKeyView(key)
  const parts = [view.kind, `scopes ${view.scopes.join(',')}`]
  if (view.parentId !== null) parts.push(`below ${view.parentId}`)
  if (view.expiresAt !== null) parts.push(`expires ${view.expiresAt}`)
  if (view.revokedAt !== null) parts.push(`revoked ${view.revokedAt}`)
  return parts.join(', ')
}
