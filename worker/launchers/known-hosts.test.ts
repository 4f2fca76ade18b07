/**
 * known_hosts checking, on lines as OpenSSH writes them (the hashed one was
 * made by `ssh-keygen -H`):
 *
 *   known_hosts text ──parseKnownHosts──> entries ──checkHostKey(name, key)──> known | unknown | mismatch | revoked
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkHostKey, knownHostsName, knownKeyTypes, matchesHost, parseKnownHosts, readKnownHosts, rememberHostKey } from './known-hosts.ts'

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIL3k/OZjwmjp8rCM0gXlQcTjHqFavS7SCYZZgMEVFOah'
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIOq4HL+eQL24wn2/uaaBQIhakHStxNEi8AJKGEGAiJJZ'
const HASHED = '|1|/RKfVfdiXp8w3xO2m/XvP7tlLdQ=|K+jR0nb1gi2BQrwQclLGubkaG1E=' // [10.0.0.2]:2222
const key = Buffer.from(KEY, 'base64')
const other = Buffer.from(OTHER, 'base64')

describe('known_hosts', () => {
  it('names a host as OpenSSH does', () => {
    expect(knownHostsName('10.0.0.2', 22)).toBe('10.0.0.2')
    expect(knownHostsName('10.0.0.2', 2222)).toBe('[10.0.0.2]:2222')
  })

  it('matches plain, wildcard, negated and hashed patterns', () => {
    expect(matchesHost('a.example,10.0.0.2', '10.0.0.2')).toBe(true)
    expect(matchesHost('*.example', 'a.example')).toBe(true)
    expect(matchesHost('10.0.0.?', '10.0.0.7')).toBe(true)
    expect(matchesHost('*.example,!bad.example', 'bad.example')).toBe(false)
    expect(matchesHost('[10.0.0.2]:2222', '10.0.0.2')).toBe(false)
    expect(matchesHost(HASHED, '[10.0.0.2]:2222')).toBe(true)
    expect(matchesHost(HASHED, '10.0.0.2')).toBe(false)
  })

  it('tells a known key from an unknown host, a changed key and a revoked key', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        `${HASHED} ssh-ed25519 ${KEY}`,
        `plain.example ssh-ed25519 ${KEY} a comment`,
        `@cert-authority *.example ssh-ed25519 ${OTHER}`,
        `@revoked * ssh-ed25519 ${OTHER}`,
        '',
      ].join('\n'),
    )
    expect(checkHostKey(entries, '[10.0.0.2]:2222', key)).toBe('known')
    expect(checkHostKey(entries, 'plain.example', key)).toBe('known')
    expect(checkHostKey(entries, 'new.example', key)).toBe('unknown')
    expect(checkHostKey(entries, 'plain.example', Buffer.from(KEY.replace('L3k', 'L3j'), 'base64'))).toBe('mismatch')
    expect(checkHostKey(entries, 'new.example', other)).toBe('revoked')
    expect(knownKeyTypes(entries, '[10.0.0.2]:2222')).toEqual(['ssh-ed25519'])
  })

  it('remembers a key on first use in the format it reads', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cellgate-kh-')), 'known_hosts')
    writeFileSync(path, `plain.example ssh-ed25519 ${OTHER}`) // no final newline
    rememberHostKey(path, '[10.0.0.3]:22022', key)
    expect(readFileSync(path, 'utf8')).toBe(`plain.example ssh-ed25519 ${OTHER}\n[10.0.0.3]:22022 ssh-ed25519 ${KEY}\n`)
    expect(checkHostKey(readKnownHosts(path), '[10.0.0.3]:22022', key)).toBe('known')
  })
})
