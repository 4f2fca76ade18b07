/**
 * `cellgate accounts …`: making and stopping accounts from the server's
 * machine, before anyone can log in (a new deployment) or without the web
 * client (scripts).
 *
 *   accounts create <name> [--admin] [--password-stdin]
 *                              the account and its first key, whose secret is printed (once) on stdout;
 *                              with --password-stdin it can also log in with the password read from stdin
 *   accounts disable <name>    every key of the account stops working at once
 *
 * The password comes on stdin, never as an argument, so it shows in no
 * process list or shell history. The account is made by the same
 * createAccount as POST /api/v1/accounts, so names and passwords follow
 * the same rules (protocol/http-keys.ts).
 */
import { accountRequestSchema } from '../protocol/index.ts'
import { createAccount } from '../server/principals/account-service.ts'
import { audit } from '../server/principals/audit.ts'
import { CliError } from './cli-error.ts'
import { accountNamed, firstIssue, OPERATOR, parseCli, withStore, type CliOutput } from './operator.ts'
import { ApiError } from '../server/errors.ts'

export const ACCOUNTS_USAGE = [
  'usage: cellgate accounts create <name> [--admin] [--password-stdin]',
  '       cellgate accounts disable <name>',
].join('\n')

/**
 * @example
 *   await runAccounts(['create', 'ada', '--password-stdin'], CONSOLE, () => readAll(process.stdin))
 */
export async function runAccounts(args: string[], io: CliOutput, readStdin: () => Promise<string>): Promise<void> {
  const [command, ...rest] = args
  switch (command) {
    case 'create':
      return create(rest, io, readStdin)
    case 'disable':
      return disable(rest, io)
    default:
      throw new CliError(ACCOUNTS_USAGE, 2)
  }
}

async function create(args: string[], io: CliOutput, readStdin: () => Promise<string>): Promise<void> {
  const { values, positionals } = parseCli(args, { admin: { type: 'boolean' }, 'password-stdin': { type: 'boolean' } }, ACCOUNTS_USAGE)
  if (positionals.length !== 1) throw new CliError(`name one account\n${ACCOUNTS_USAGE}`, 2)
  // One line, as `echo "$PASSWORD" |` or a file sends it: its line end is not part of the password.
  const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : undefined
  const input = accountRequestSchema.safeParse({ name: positionals[0], role: values.admin ? 'admin' : 'user', ...(password !== undefined && { password }) })
  if (!input.success) throw new CliError(firstIssue(input.error))
  await withStore(async (store) => {
    const made = await createAccount(store, input.data).catch((err: unknown) => {
      throw err instanceof ApiError ? new CliError(err.message) : err
    })
    await audit(store, OPERATOR, 'account.created', { accountId: made.account.id, name: made.account.name, role: made.account.role })
    const login = made.account.login.password ? 'it can log in with the password given' : 'it has no password (log in with its key)'
    io.note(`made the ${made.account.role} account ${made.account.name} (${made.account.id}); ${login}. Its first key ${made.key.id}, shown this once:`)
    io.out(made.secret)
  })
}

async function disable(args: string[], io: CliOutput): Promise<void> {
  const { positionals } = parseCli(args, {}, ACCOUNTS_USAGE)
  if (positionals.length !== 1) throw new CliError(`name one account\n${ACCOUNTS_USAGE}`, 2)
  await withStore(async (store) => {
    const account = await accountNamed(store, positionals[0]!)
    const now = Date.now()
    if (!(await store.disableAccount(account.id, now))) {
      io.out(`account ${account.name} was disabled already`)
      return
    }
    await audit(store, OPERATOR, 'account.disabled', { accountId: account.id }, now)
    io.out(`disabled account ${account.name}: none of its keys works any more`)
  })
}
