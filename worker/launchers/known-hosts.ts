/**
 * Host key checking for the SSH launcher against an OpenSSH known_hosts
 * file, so the dispatcher only sends a sandbox's boot secrets to the host it
 * means. Reads plain and hashed (`|1|salt|hash`) host entries, wildcard and
 * negated patterns, `[host]:port` for other ports and `@revoked` lines;
 * `@cert-authority` lines are ignored (no certificates here).
 *
 * Trust on first use is an explicit option of the caller: `remember` appends
 * a key for a host that has none, never one that contradicts a known key.
 */
import { createHmac } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'

export interface KnownHostEntry {
  marker: 'revoked' | null
  patterns: string
  keyType: string
  /** The public key blob, as the server sends it. */
  key: Buffer
}

export type HostKeyVerdict = 'known' | 'unknown' | 'mismatch' | 'revoked'

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` on any other. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/**
 * @example
 *   parseKnownHosts('[10.0.0.2]:2222 ssh-ed25519 AAAAC3Nz…') // [{marker: null, patterns: '[10.0.0.2]:2222', keyType: 'ssh-ed25519', key}]
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/)
    if (fields[0] === '' || fields[0]!.startsWith('#')) continue
    let marker: KnownHostEntry['marker'] = null
    if (fields[0]!.startsWith('@')) {
      if (fields[0] !== '@revoked') continue
      marker = 'revoked'
      fields.shift()
    }
    const [patterns, keyType, base64] = fields
    if (!patterns || !keyType || !base64) continue
    entries.push({ marker, patterns, keyType, key: Buffer.from(base64, 'base64') })
  }
  return entries
}

/** Whether one comma-separated pattern list of a known_hosts line names `name`. */
export function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|')
    if (!salt || !hash) return false
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
  }
  let matched = false
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!')
    if (wildcard(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

function wildcard(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${source}$`, 'i')
}

/** The key types a known_hosts file holds for a host: ssh2 then offers only those. */
export function knownKeyTypes(entries: KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === null && matchesHost(e.patterns, name)).map((e) => e.keyType))]
}

/**
 * @example
 *   checkHostKey(parseKnownHosts(text), '[127.0.0.1]:2222', keyBlob) // 'known'
 */
export function checkHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(key))) return 'revoked'
  const forHost = entries.filter((e) => e.marker === null && matchesHost(e.patterns, name))
  if (forHost.some((e) => e.key.equals(key))) return 'known'
  return forHost.length === 0 ? 'unknown' : 'mismatch'
}

/** Reads the file afresh on each check, so keys added by an operator count without a restart. */
export function readKnownHosts(path: string): KnownHostEntry[] {
  return existsSync(path) ? parseKnownHosts(readFileSync(path, 'utf8')) : []
}

/** Trust on first use: appends `name keyType base64` (the key type is read from the blob itself). */
export function rememberHostKey(path: string, name: string, key: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const separator = text === '' || text.endsWith('\n') ? '' : '\n'
  appendFileSync(path, `${separator}${name} ${blobKeyType(key)} ${key.toString('base64')}\n`, { mode: 0o600 })
}

/** An SSH public key blob starts with its type as a length-prefixed string. */
function blobKeyType(key: Buffer): string {
  const length = key.readUInt32BE(0)
  return key.subarray(4, 4 + length).toString('latin1')
}
