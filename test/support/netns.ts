/**
 * Test hosts as Linux network namespaces: each gets a veth pair to the root
 * namespace (where the dispatcher runs) on its own /30 of 10.213.0.0/16,
 *
 *   root namespace  cgtestNh 10.213.N.1/30  <──veth──>  cgtestNn 10.213.N.2/30  namespace cgtestN
 *                   (dispatcher)                          (sshd, sandboxes)
 *
 * so a sandbox "on another host" reaches the dispatcher at 10.213.N.1 and
 * the dispatcher reaches its sshd at 10.213.N.2, and nothing else. Namespaces
 * left by a crashed earlier run (same prefix) are removed before new ones are
 * made. Needs root and iproute2.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const PREFIX = 'cgtest'

export interface TestHost {
  /** Namespace name, for `ip netns exec`. */
  netns: string
  /** The host's address (inside the namespace). */
  address: string
  /** The dispatcher's address as this host sees it (root namespace end of the veth). */
  gateway: string
}

/** Why namespaces cannot be made here, or null when they can. */
export function netnsMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root (network namespaces need root)'
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) return 'iproute2 not installed (apt-get install -y iproute2)'
  try {
    ip('netns', 'list')
  } catch (err) {
    return `cannot use network namespaces: ${(err as Error).message}`
  }
  return null
}

/**
 * @example
 *   const hosts = createTestHosts(2) // [{ netns: 'cgtest1', address: '10.213.1.2', gateway: '10.213.1.1' }, …]
 *   …
 *   removeTestHosts()
 */
export function createTestHosts(count: number): TestHost[] {
  if (count < 1 || count > 250) throw new Error('between 1 and 250 test hosts')
  removeTestHosts()
  const hosts: TestHost[] = []
  for (let n = 1; n <= count; n++) {
    const host = { netns: `${PREFIX}${n}`, address: `10.213.${n}.2`, gateway: `10.213.${n}.1` }
    const outside = `${PREFIX}${n}h`
    const inside = `${PREFIX}${n}n`
    ip('netns', 'add', host.netns)
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside)
    ip('link', 'set', inside, 'netns', host.netns)
    ip('addr', 'add', `${host.gateway}/30`, 'dev', outside)
    ip('link', 'set', outside, 'up')
    ip('-n', host.netns, 'addr', 'add', `${host.address}/30`, 'dev', inside)
    ip('-n', host.netns, 'link', 'set', inside, 'up')
    ip('-n', host.netns, 'link', 'set', 'lo', 'up')
    hosts.push(host)
  }
  return hosts
}

/** Removes every namespace and root-side veth of this prefix (a namespace takes its end of the pair with it). */
export function removeTestHosts(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0]
    if (name && new RegExp(`^${PREFIX}\\d+$`).test(name)) ip('netns', 'delete', name)
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1]
    if (name && new RegExp(`^${PREFIX}\\d+h$`).test(name)) deleteLink(name)
  }
}

/** The kernel may still be taking the pair down with its namespace: a link already gone is what we wanted. */
function deleteLink(name: string): void {
  try {
    ip('link', 'delete', name)
  } catch (err) {
    if (!String((err as { stderr?: unknown }).stderr).includes('Cannot find device')) throw err
  }
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
