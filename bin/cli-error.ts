/**
 * The error of the operator's subcommands (`cellgate keys …`, `cellgate
 * accounts …`): a refusal or a usage mistake, printed as its message alone
 * with its exit status. A file of its own so bin/cellgate.ts can tell it
 * apart without loading the store code every other role goes without.
 */

/** Exit status 1: refused (no such account, a scope the role lacks…); 2: the command was used wrongly. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message)
  }
}
