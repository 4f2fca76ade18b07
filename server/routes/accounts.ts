/**
 * Accounts as an HTTP resource for admins (a key with the `admin` scope),
 * mounted at /api/v1/accounts:
 *
 *   GET  /                 accounts, 100 a page (?after=<last id of the page before>)
 *   POST /                 {name, role?, password?}; 201 {account, key, secret}: the account's
 *                          first key, its secret shown this once; 409 if the name is taken
 *   POST /:id/disable      every key of the account stops working at once
 */
import { Hono } from 'hono'
import { accountRequestSchema } from '../../protocol/index.ts'
import type { AppEnv } from '../caller.ts'
import { ApiError } from '../errors.ts'
import type { AccountService } from '../principals/account-service.ts'
import { readJsonBody } from '../request-body.ts'

/**
 * @example
 *   app.route('/api/v1/accounts', accountRoutes(accounts))
 */
export function accountRoutes(accounts: AccountService): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/', async (c) => c.json({ accounts: await accounts.list(c.var.caller, c.req.query('after')?.slice(0, 100)) }))

  app.post('/', async (c) => c.json(await accounts.create(c.var.caller, await readJsonBody(c, accountRequestSchema)), 201))

  app.post('/:id/disable', async (c) => {
    const id = c.req.param('id')
    const view = await accounts.disable(c.var.caller, id.slice(0, 100))
    if (view === null) throw new ApiError('not_found', `no account ${JSON.stringify(id.slice(0, 100))}`)
    return c.json(view)
  })

  return app
}
