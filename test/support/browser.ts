/**
 * Browser tests drive Debian's chromium (/usr/bin/chromium, `apt-get install
 * chromium`) through playwright-core: no browser is downloaded. `useBrowser()`
 * builds the web client if dist/web is missing or older than its sources,
 * launches chromium with a fresh profile, gives each test a new page and
 * saves a screenshot of it after the test under test-artifacts/browser/.
 *
 *   test --CDP--> chromium --HTTP/SSE--> cellgate (startTestCluster)
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { startTestCluster, type TestCluster } from './test-cluster.ts'

export const CHROMIUM = '/usr/bin/chromium'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WEB_OUT = join(ROOT, 'dist/web')
/** Files every build writes; the oldest of them dates the build. */
const BUILD_OUTPUTS = ['index.html', 'embed.js'].map((f) => join(WEB_OUT, f))
const BUILD_INPUTS = [join(ROOT, 'web'), join(ROOT, 'vite.config.ts')]
const BUILD_LOCK = join(ROOT, 'dist/.web-build-lock')
const ARTIFACTS = join(ROOT, 'test-artifacts/browser')

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Why browser tests cannot run here, or null when they can (for describeWith). */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not installed (apt-get install chromium)`
}

export interface BrowserFixture {
  /** The page of the running test (new for each test). */
  readonly page: Page
  readonly context: BrowserContext
}

/**
 * Registers the hooks of a browser suite. Call it first in the describe, so the
 * web client is built before a cluster's server starts serving dist/web.
 * @example
 *   describeWith(chromiumMissing(), 'cell page', () => {
 *     const browser = useBrowser()
 *     it('runs', async () => { await browser.page.goto(url) })
 *   })
 */
export function useBrowser(): BrowserFixture {
  let context: BrowserContext | undefined
  let page: Page | undefined
  let profile: string | undefined

  beforeAll(async () => {
    await ensureWebBuilt()
    profile = mkdtempSync(join(tmpdir(), 'cellgate-chromium-'))
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS })
  })
  beforeEach(async () => {
    page = await context!.newPage()
    // A page's own failures would otherwise be invisible in the test's output.
    page.on('pageerror', (err) => console.warn(`browser page error: ${err.message}`))
  })
  afterEach(async (ctx) => {
    if (!page) return
    mkdirSync(ARTIFACTS, { recursive: true })
    const name = `${ctx.task.file.name.replace(/^.*\//, '').replace(/\.test\.ts$/, '')}--${ctx.task.name}`
    await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`), fullPage: true }).catch(() => {})
    await page.close()
    page = undefined
  })
  afterAll(async () => {
    await context?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  return {
    get page() {
      if (!page) throw new Error('no page outside a test')
      return page
    },
    get context() {
      if (!context) throw new Error('the browser has not started')
      return context
    },
  }
}

/**
 * A real cellgate for a browser suite's pages: started before its tests
 * (after useBrowser's build, so it serves the fresh client), closed after
 * them. What it returns stands for the started cluster.
 * @example
 *   const browser = useBrowser()
 *   const cluster = useCluster()
 *   it('opens', async () => { await browser.page.goto(cluster.url) })
 */
export function useCluster(env: Record<string, string> = {}): TestCluster {
  let cluster: TestCluster | undefined
  beforeAll(async () => {
    cluster = await startTestCluster(env)
  })
  afterAll(async () => {
    await cluster?.close()
  })
  return new Proxy({} as TestCluster, {
    get(_, key) {
      if (!cluster) throw new Error('the cluster has not started')
      return Reflect.get(cluster, key)
    },
  })
}

/**
 * Runs `npm run build` when dist/web is missing or older than web/ or
 * vite.config.ts. Test files run in parallel processes: one builds, holding a
 * lock directory; the others wait for it, then see a fresh build.
 */
export async function ensureWebBuilt(): Promise<void> {
  for (;;) {
    if (!buildIsStale()) return
    if (takeLock()) {
      try {
        if (buildIsStale()) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
        return
      } finally {
        rmSync(BUILD_LOCK, { recursive: true, force: true })
      }
    }
    await sleep(200)
  }
}

function buildIsStale(): boolean {
  if (!BUILD_OUTPUTS.every((f) => existsSync(f))) return true
  const built = Math.min(...BUILD_OUTPUTS.map((f) => statSync(f).mtimeMs))
  return BUILD_INPUTS.some((input) => newestMtime(input) > built)
}

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))))
}

const STALE_LOCK_MS = 120_000

function takeLock(): boolean {
  mkdirSync(dirname(BUILD_LOCK), { recursive: true })
  try {
    mkdirSync(BUILD_LOCK)
    return true
  } catch {
    // A lock left by a run that was killed mid-build would block every later run.
    const lock = statSync(BUILD_LOCK, { throwIfNoEntry: false })
    if (lock && Date.now() - lock.mtimeMs > STALE_LOCK_MS) rmSync(BUILD_LOCK, { recursive: true, force: true })
    return false
  }
}
