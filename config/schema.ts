/**
 * Every configuration option of cellgate, with its default. One schema for
 * all three processes; each entry point reads it once (see load.ts) and
 * passes the part it needs down as a typed object.
 */
import { z } from 'zod'
import { DEFAULT_LIMITS, MAX_BODY_BYTES, MAX_LIMITS, MIN_MEMORY_MB, MIN_TIME_MS } from '../protocol/index.ts'

const zmqEndpoint = z.string().regex(/^(tcp|ipc):\/\/\S+$/, 'expected a ZeroMQ endpoint such as tcp://127.0.0.1:5555')

/** `user@host[:port]`, an IPv6 host in brackets. */
export const SSH_TARGET = /^([a-z_][a-z0-9_.-]*)@(\[[0-9a-f:.]+\]|[^:@[\]\s]+)(?::(\d{1,5}))?$/i

const sshHost = z.object({
  host: z.string().regex(SSH_TARGET, 'expected user@host[:port]'),
  /** Sandbox processes on this host. Default: pool.size. At most 10, OpenSSH's default MaxSessions per connection. */
  sandboxes: z.number().int().min(1).max(10).optional(),
  /** The dispatcher's sandbox endpoint as this host reaches it. Default: dispatcher.sandboxEndpoint, a wildcard address replaced by the dispatcher's address on the SSH connection. */
  endpoint: zmqEndpoint.optional(),
})

export const configSchema = z.object({
  server: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Where the server keeps its files (the SQLite store); created with mode 0700. */
    dataDir: z.string().default('./data'),
    /** Names this server to the dispatcher; stable across restarts so replies find it again. */
    id: z.string().min(1).max(128).optional(),
    /** How much longer than a job's wall limit `?wait=true` waits before answering 202. */
    waitGraceMs: z.number().int().min(0).default(5_000),
    /** A job nobody started within this time ends `lost`. */
    queueTimeoutMs: z.number().int().min(1_000).default(5 * 60_000),
    /** How often an event stream reads a running job from the store, for jobs run through another web instance. */
    streamPollMs: z.number().int().min(20).max(60_000).default(500),
    /** Origins whose pages may call the API (embedded cells): `*`, or comma-separated origins such as https://course.example.org. */
    corsOrigins: z.string().default('*'),
    /** Serve stacks of unexpected errors in responses. */
    debug: z.boolean().default(false),
    /** How often the sweep ends stale jobs and expired sessions, and deletes jobs past their retention. */
    sweepIntervalMs: z.number().int().min(50).max(600_000).default(5_000),
    /** Interval of the comment lines that keep an idle event stream open through proxies. */
    streamHeartbeatMs: z.number().int().min(100).max(600_000).default(15_000),
    /** Outputs an event stream reads from the store at once when it replays a job; it yields to other requests between pages. */
    streamPageSize: z.number().int().min(1).max(100_000).default(500),
    /** Bytes an event stream may hold that its client has not taken yet; past it the stream waits for the client. */
    streamMaxUnsentBytes: z.number().int().min(16_384).max(1 << 30).default(1 << 20),
    /** A client that leaves its stream at that bound this long is disconnected (it can resume with Last-Event-ID). */
    streamStallMs: z.number().int().min(50).max(600_000).default(10_000),
    /** How often the server says hello to the dispatcher (also how it notices a dispatcher restart). */
    helloIntervalMs: z.number().int().min(50).max(60_000).default(2_000),
    /** How long a request to the dispatcher (GET /api/v1/workers) waits for its answer. */
    dispatcherRequestTimeoutMs: z.number().int().min(50).max(60_000).default(2_000),
  }).prefault({}),
  /** Where the web tier keeps jobs: the embedded SQLite file in server.dataDir, or MongoDB when a URI is set. */
  store: z.object({
    /** A MongoDB connection string, e.g. mongodb://db1,db2,db3/?replicaSet=rs0. */
    mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URI').optional(),
    mongodbDb: z.string().min(1).max(64).default('cellgate'),
  }).prefault({}),
  dispatcher: z.object({
    /** Where the dispatcher listens for servers (ROUTER). */
    endpoint: zmqEndpoint.default('tcp://127.0.0.1:5555'),
    /** Where the dispatcher listens for sandboxes (ROUTER). */
    sandboxEndpoint: zmqEndpoint.default('tcp://127.0.0.1:5556'),
    /** Extra time past a job's wall limit before the dispatcher gives up on its sandbox. */
    graceMs: z.number().int().min(100).default(5_000),
    /** Address of the dispatcher's Prometheus endpoint (GET /metrics); loopback by default. */
    metricsHost: z.string().default('127.0.0.1'),
    /** Its port; 0 takes any free port (the dispatcher prints which). */
    metricsPort: z.number().int().min(0).max(65535).default(9464),
  }).prefault({}),
  pool: z.object({
    /** Sandbox processes kept running. */
    size: z.number().int().min(1).max(256).default(2),
    /**
     * Jobs one sandbox process runs at once (one isolate each). 4 rather than
     * one per core: jobs in flight overlap their messaging with other jobs'
     * isolate work; on 2 cores, 2 -> 4 slots measured +12% trivial cells/s
     * and half the p99 of a mix with 50 ms cells (bench/README.md).
     */
    slots: z.number().int().min(1).max(64).default(4),
    /** A sandbox that has not connected back within this long after its launch is killed and replaced. */
    startTimeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
    /**
     * The OS memory bound (a cgroup) on each local sandbox process, in MB. Default: sized from the slots, the most
     * memory a cell may ask for and one client's sessions (worker/launchers/sandbox-bound.ts); 3680 with the defaults.
     */
    sandboxMemoryMb: z.number().int().min(64).max(1_048_576).optional(),
  }).prefault({}),
  /**
   * Sandboxes on other hosts over SSH (scripts/provision-host.sh prepares a host). With hosts set,
   * every sandbox is launched over SSH and connects back with CURVE; without, they are local children.
   */
  ssh: z.object({
    /** In the environment: comma-separated `user@host[:port]`, each taking pool.size sandboxes. */
    hosts: z.preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((host) => host.trim()).filter(Boolean).map((host) => ({ host })) : value),
      z.array(sshHost).max(256),
    ).default([]),
    /** Private key the dispatcher logs in with; required with hosts. */
    keyPath: z.string().min(1).optional(),
    /** Host keys checked on every connect. Default: ~/.ssh/known_hosts of the dispatcher's user. */
    knownHostsPath: z.string().min(1).optional(),
    /** Accept (and append to known_hosts) the key of a host not listed there. A changed key is refused all the same. */
    trustNewHosts: z.boolean().default(false),
    /** The command the SSH session runs; the forced command of the host's authorized_keys takes precedence. */
    sandboxCommand: z.string().min(1).default('/opt/cellgate/bin/cellgate-sandbox'),
  }).prefault({}).refine((ssh) => ssh.hosts.length === 0 || ssh.keyPath !== undefined, {
    message: 'a private key (CELLGATE_SSH_KEY) is required with ssh hosts',
    path: ['keyPath'],
  }),
  /** Stateful sessions (notebooks): cells that share one context, pinned to one sandbox. */
  sessions: z.object({
    /** A session no cell was sent to for this long ends. */
    idleMs: z.number().int().min(100).default(15 * 60_000),
    /** A session ends this long after it was created, however busy. */
    maxLifeMs: z.number().int().min(100).default(60 * 60_000),
    /** Sessions one client may have active at once: per account for keys, per IP address for anonymous callers. */
    maxPerClient: z.number().int().min(1).max(10_000).default(5),
  }).prefault({}),
  /**
   * How long the store keeps what cells leave behind, enforced by a sweep every server.sweepIntervalMs.
   * Saved notebooks are not deleted: a notebook's link is meant to last.
   */
  retention: z.object({
    /** An ended job and its outputs are deleted this long after it ended (30 days); a queued or running job never is. */
    jobsMs: z.number().int().min(60_000).default(30 * 24 * 60 * 60_000),
  }).prefault({}),
  /**
   * Bounds on saved notebooks per client (an account; anonymous callers and notebook keys: an IP address), each a budget that
   * refills evenly over windowMs: using it up costs a 429 with Retry-After, never a day's lockout.
   */
  notebooks: z.object({
    /** The time over which each budget below refills completely. */
    windowMs: z.number().int().min(1_000).max(7 * 24 * 60 * 60_000).default(60 * 60_000),
    /** Notebooks created and saved per client per window (429 rate_limited past it). */
    writesPerClient: z.number().int().min(1).max(1_000_000).default(600),
    /** Bytes per client per window that creating notebooks, or saving them larger, may add to the store (429 quota_exceeded past it). At least one request body. */
    bytesPerClient: z.number().int().min(MAX_BODY_BYTES).max(2 ** 40).default(20 * 1024 * 1024),
  }).prefault({}),
  /** Who may call: keys, anonymous callers, the first admin (server/principals). */
  auth: z.object({
    /** What a request without a key may do: `run` (cells, own sessions, new notebooks, read by permalink) or `off` (only read by permalink). */
    anonymous: z.enum(['run', 'off']).default('run'),
    /** If no admin account exists yet, one is made with an admin key of exactly this secret (scripted deployments, tests). */
    bootstrapKey: z.string().regex(/^cg_sk_[A-Za-z0-9_-]{43}$/, 'must be a key secret: cg_sk_ and 43 base64url characters (`npm run cellgate -- keys secret` makes one)').optional(),
    /** How long a web instance may trust a key it looked up; a key revoked elsewhere may work this long here. 0: every request asks the store. */
    keyCacheMs: z.number().int().min(0).max(5_000).default(0),
    /**
     * Logging in with OpenID Connect (server/principals/oidc-login.ts): all of issuer, clientId and clientSecret,
     * or none (no OIDC login). The provider must allow the redirect URL below for this client.
     */
    oidc: z.strictObject({
      /** The provider's issuer URL; its /.well-known/openid-configuration is read on the first login. Plain http only on loopback. */
      issuer: z.url({ protocol: /^https?$/ }).refine((url) => url.startsWith('https:') || isLoopback(url), 'must be https (http only on loopback, for tests)'),
      clientId: z.string().min(1).max(512),
      /** Also what the short-lived OIDC state cookie is sealed with (every web instance has it, no store needed). */
      clientSecret: z.string().min(16, 'must be at least 16 characters (it also seals the login state cookie)').max(4096),
      /** Where the provider sends the browser back. Default: this server's /api/v1/login/oidc/callback as the request reached it; set it behind a proxy. */
      redirectUrl: z.url({ protocol: /^https?$/ }).optional(),
    }).optional(),
  }).prefault({}),
  /** Structured JSON logs (pino), one line per event, on stdout; the sandboxes' go through the dispatcher. */
  log: z.object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  /** Defaults for jobs that do not set their own; each capped by the hard maxima. */
  limits: z.object({
    wallMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.wallMs).default(DEFAULT_LIMITS.wallMs),
    cpuMs: z.number().int().min(MIN_TIME_MS).max(MAX_LIMITS.cpuMs).default(DEFAULT_LIMITS.cpuMs),
    memoryMb: z.number().int().min(MIN_MEMORY_MB).max(MAX_LIMITS.memoryMb).default(DEFAULT_LIMITS.memoryMb),
    outputBytes: z.number().int().min(0).max(MAX_LIMITS.outputBytes).default(DEFAULT_LIMITS.outputBytes),
    outputs: z.number().int().min(0).max(MAX_LIMITS.outputs).default(DEFAULT_LIMITS.outputs),
  }).prefault({}),
})

export type Config = z.infer<typeof configSchema>
export type ServerConfig = Config['server']
export type DispatcherConfig = Config['dispatcher']
export type PoolConfig = Config['pool']
export type LimitsConfig = Config['limits']
export type SshConfig = Config['ssh']
export type SessionsConfig = Config['sessions']
export type NotebooksConfig = Config['notebooks']
export type LogConfig = Config['log']
export type OidcConfig = NonNullable<Config['auth']['oidc']>

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
}

/**
 * Environment variables, the option each sets (a dotted key sets an option of a sub-object, `oidc.issuer`),
 * and how its text is read (an id such as `1` stays a string).
 */
export const ENV_OPTIONS = {
  HOST: ['server', 'host', 'string'],
  PORT: ['server', 'port', 'number'],
  CELLGATE_DATA_DIR: ['server', 'dataDir', 'string'],
  CELLGATE_SERVER_ID: ['server', 'id', 'string'],
  CELLGATE_WAIT_GRACE_MS: ['server', 'waitGraceMs', 'number'],
  CELLGATE_QUEUE_TIMEOUT_MS: ['server', 'queueTimeoutMs', 'number'],
  CELLGATE_STREAM_POLL_MS: ['server', 'streamPollMs', 'number'],
  CELLGATE_CORS_ORIGINS: ['server', 'corsOrigins', 'string'],
  CELLGATE_DEBUG: ['server', 'debug', 'boolean'],
  CELLGATE_SWEEP_INTERVAL_MS: ['server', 'sweepIntervalMs', 'number'],
  CELLGATE_STREAM_HEARTBEAT_MS: ['server', 'streamHeartbeatMs', 'number'],
  CELLGATE_STREAM_PAGE_SIZE: ['server', 'streamPageSize', 'number'],
  CELLGATE_STREAM_MAX_UNSENT_BYTES: ['server', 'streamMaxUnsentBytes', 'number'],
  CELLGATE_STREAM_STALL_MS: ['server', 'streamStallMs', 'number'],
  CELLGATE_HELLO_INTERVAL_MS: ['server', 'helloIntervalMs', 'number'],
  CELLGATE_DISPATCHER_REQUEST_TIMEOUT_MS: ['server', 'dispatcherRequestTimeoutMs', 'number'],
  MONGODB_URI: ['store', 'mongodbUri', 'string'],
  CELLGATE_MONGODB_DB: ['store', 'mongodbDb', 'string'],
  CELLGATE_DISPATCHER: ['dispatcher', 'endpoint', 'string'],
  CELLGATE_SANDBOX_ENDPOINT: ['dispatcher', 'sandboxEndpoint', 'string'],
  CELLGATE_DISPATCH_GRACE_MS: ['dispatcher', 'graceMs', 'number'],
  CELLGATE_DISPATCHER_METRICS_HOST: ['dispatcher', 'metricsHost', 'string'],
  CELLGATE_DISPATCHER_METRICS_PORT: ['dispatcher', 'metricsPort', 'number'],
  CELLGATE_POOL_SIZE: ['pool', 'size', 'number'],
  CELLGATE_SANDBOX_SLOTS: ['pool', 'slots', 'number'],
  CELLGATE_SANDBOX_START_TIMEOUT_MS: ['pool', 'startTimeoutMs', 'number'],
  CELLGATE_SANDBOX_MEMORY_MB: ['pool', 'sandboxMemoryMb', 'number'],
  CELLGATE_SESSION_IDLE_MS: ['sessions', 'idleMs', 'number'],
  CELLGATE_SESSION_MAX_LIFE_MS: ['sessions', 'maxLifeMs', 'number'],
  CELLGATE_SESSIONS_PER_CLIENT: ['sessions', 'maxPerClient', 'number'],
  CELLGATE_RETENTION_JOBS_MS: ['retention', 'jobsMs', 'number'],
  CELLGATE_NOTEBOOK_WINDOW_MS: ['notebooks', 'windowMs', 'number'],
  CELLGATE_NOTEBOOK_WRITES_PER_CLIENT: ['notebooks', 'writesPerClient', 'number'],
  CELLGATE_NOTEBOOK_BYTES_PER_CLIENT: ['notebooks', 'bytesPerClient', 'number'],
  CELLGATE_WALL_MS: ['limits', 'wallMs', 'number'],
  CELLGATE_CPU_MS: ['limits', 'cpuMs', 'number'],
  CELLGATE_MEMORY_MB: ['limits', 'memoryMb', 'number'],
  CELLGATE_OUTPUT_BYTES: ['limits', 'outputBytes', 'number'],
  CELLGATE_OUTPUTS: ['limits', 'outputs', 'number'],
  CELLGATE_ANONYMOUS: ['auth', 'anonymous', 'string'],
  CELLGATE_BOOTSTRAP_KEY: ['auth', 'bootstrapKey', 'string'],
  CELLGATE_KEY_CACHE_MS: ['auth', 'keyCacheMs', 'number'],
  CELLGATE_OIDC_ISSUER: ['auth', 'oidc.issuer', 'string'],
  CELLGATE_OIDC_CLIENT_ID: ['auth', 'oidc.clientId', 'string'],
  CELLGATE_OIDC_CLIENT_SECRET: ['auth', 'oidc.clientSecret', 'string'],
  CELLGATE_OIDC_REDIRECT_URL: ['auth', 'oidc.redirectUrl', 'string'],
  CELLGATE_LOG_LEVEL: ['log', 'level', 'string'],
  CELLGATE_SSH_HOSTS: ['ssh', 'hosts', 'string'],
  CELLGATE_SSH_KEY: ['ssh', 'keyPath', 'string'],
  CELLGATE_SSH_KNOWN_HOSTS: ['ssh', 'knownHostsPath', 'string'],
  CELLGATE_SSH_TRUST_NEW_HOSTS: ['ssh', 'trustNewHosts', 'boolean'],
  CELLGATE_SSH_SANDBOX_COMMAND: ['ssh', 'sandboxCommand', 'string'],
} as const satisfies Record<string, readonly [keyof Config, string, 'string' | 'number' | 'boolean']>
