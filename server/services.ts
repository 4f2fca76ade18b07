/**
 * Wires the web tier's services to the parts they share (store, dispatcher
 * link, event hub, config, logger, metrics), each given only what it needs, and the
 * link's messages to the job service. main.ts and the in-process test
 * server both build the services here, so they are built one way.
 */
import type { Config } from '../config/schema.ts'
import type { Logger } from '../telemetry/logger.ts'
import type { DispatcherLink } from './dispatcher-link.ts'
import type { EventHub } from './event-hub.ts'
import { JobService } from './jobs.ts'
import type { ServerMetrics } from './metrics.ts'
import { NotebookService } from './notebooks.ts'
import { SessionService } from './sessions.ts'
import { AccountService } from './principals/account-service.ts'
import { AuditService } from './principals/audit-service.ts'
import { storeAuthenticator, type StoreAuthenticator } from './principals/authenticator.ts'
import { KeyService } from './principals/key-service.ts'
import { LoginService } from './principals/login-service.ts'
import { OidcLogin } from './principals/oidc-login.ts'
import type { Store } from './store/port.ts'
import { SystemStatusService } from './system-status.ts'

export interface Services {
  jobs: JobService
  sessions: SessionService
  notebooks: NotebookService
  status: SystemStatusService
  auth: StoreAuthenticator
  keys: KeyService
  accounts: AccountService
  logins: LoginService
  /** null when OpenID Connect login is not configured (config.auth.oidc). */
  oidc: OidcLogin | null
  audit: AuditService
}

export interface ServiceDeps {
  store: Store
  link: DispatcherLink
  hub: EventHub
  config: Pick<Config, 'server' | 'dispatcher' | 'limits' | 'sessions' | 'retention' | 'notebooks' | 'auth'>
  logger: Logger
  metrics: ServerMetrics
}

/**
 * @example
 *   const services = createServices({ store, link, hub, config, logger, metrics })
 *   link.start()
 */
export function createServices({ store, link, hub, config, logger, metrics }: ServiceDeps): Services {
  const sessions = new SessionService({ store, link, config })
  const jobs = new JobService({ store, link, hub, sessions, config, logger: logger.child({ component: 'jobs' }), metrics })
  link.onMessages((batch) => jobs.receive(batch))
  const auth = storeAuthenticator(store, config.auth, logger.child({ component: 'auth' }))
  const logins = new LoginService({ store })
  const oidc = config.auth.oidc ? new OidcLogin({ store, logins, config: config.auth.oidc }) : null
  return {
    jobs, sessions, notebooks: new NotebookService({ store, config }), status: new SystemStatusService({ store, link }),
    auth, keys: new KeyService({ store, cache: auth.cache }), accounts: new AccountService({ store }), logins, oidc, audit: new AuditService({ store }),
  }
}
