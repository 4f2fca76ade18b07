/**
 * What the operator's subcommands (`cellgate keys …`, `cellgate accounts …`)
 * share: the store opened from the same config and environment as the
 * server (config/load.ts, so they act on the data the server serves), the
 * caller their audit records are written as, and their argument parsing.
 *
 * The operator acts with the store's own rights, which no key has: whoever
 * may run this command on the server's machine can read its data directory
 * anyway. So the CLI calls the key and account functions of
 * server/principals directly rather than through services that check a
 * key's rights, and audits what it did with client `cli` and no account.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { loadConfig } from '../config/load.ts'
import type { Caller } from '../server/caller.ts'
import { anonymousPrincipal } from '../server/principals/principal.ts'
import { storeFor } from '../server/store/open-store.ts'
import type { AccountRecord, PrincipalStore } from '../server/store/principals-port.ts'
import type { Store } from '../server/store/port.ts'
import { CliError } from './cli-error.ts'

/**
 * The caller of the CLI's audit records. Its principal has no rights at all,
 * so handing it to a service that checks rights by mistake is refused there.
 */
export const OPERATOR: Caller = { client: 'cli', origin: null, principal: anonymousPrincipal('off') }

/** Where a subcommand writes: stdout for what scripts capture (a secret, a list), stderr for what a person reads. */
export interface CliOutput {
  out(line: string): void
  note(line: string): void
}

export const CONSOLE: CliOutput = { out: (line) => console.log(line), note: (line) => console.error(line) }

/**
 * Runs `work` on the configured store and closes it, whatever happens.
 *
 * @example
 *   await withStore((store) => store.getAccountByName('admin'))
 */
export async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = storeFor(loadConfig())
  await store.open()
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}

/**
 * @example
 *   const ada = await accountNamed(store, 'ada') // throws CliError when there is none
 */
export async function accountNamed(store: Pick<PrincipalStore, 'getAccountByName'>, name: string): Promise<AccountRecord> {
  const account = await store.getAccountByName(name)
  if (account === null) throw new CliError(`no account named ${JSON.stringify(name)}`)
  return account
}

/**
 * node:util parseArgs, strict, with a usage error (exit status 2) instead of its TypeError.
 *
 * @example
 *   const { values, positionals } = parseCli(args, { account: { type: 'string' } }, 'usage: …')
 */
export function parseCli<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usage}`, 2)
  }
}

/** The first problem zod found, as `field: message`, for a refusal the person can act on. */
export function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid input'
  return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message
}
