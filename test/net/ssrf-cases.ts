/**
 * The SSRF table: URLs an attacker would try, each with the reason the guard must give.
 * `PORT` is replaced by a loopback listener's port where a connection would land on this
 * machine if the guard let it through (send-time tests count connections on it).
 */
import type { ResolveHost } from '../../src/net/resolve.ts'

export interface RefusedCase { url: string; reason: RegExp }

const r = (url: string, reason: RegExp): RefusedCase => ({ url, reason })
// Reasons as the guard words them (net/guard.ts, net/target.ts, net/special-ranges.ts).
const addr = (name: string, rfc: string, via?: [string, string]) =>
  new RegExp(`non-public address: ${name} \\(${rfc}\\)${via ? ` via ${via[0]} \\(${via[1]}\\)` : ''}$`)
const LOOPBACK = addr('loopback', 'RFC 1122')
const PRIVATE = addr('private-use', 'RFC 1918')
const METADATA = addr('link-local', 'RFC 3927')
const MAPPED: [string, string] = ['ipv4-mapped', 'RFC 4291']
const NAT64: [string, string] = ['nat64', 'RFC 6052']
const SIX_TO_FOUR: [string, string] = ['6to4', 'RFC 3056']

/** The injected DNS: names an attacker controls, each answering one refused class (or a public control). */
export const ZONE: Record<string, string[]> = {
  'loopback.attacker.example': ['127.0.0.1'],
  'loopback6.attacker.example': ['::1'],
  'metadata.attacker.example': ['169.254.169.254'],
  'ten.attacker.example': ['10.0.0.1'],
  'one-seven-two.attacker.example': ['172.20.1.1'],
  'lan.attacker.example': ['192.168.0.10'],
  'cgnat.attacker.example': ['100.64.0.1'],
  'zero.attacker.example': ['0.0.0.0'],
  'ula.attacker.example': ['fd00::1'],
  'linklocal6.attacker.example': ['fe80::1'],
  'mapped.attacker.example': ['::ffff:127.0.0.1'],
  'compat.attacker.example': ['::7f00:1'],
  'nat64.attacker.example': ['64:ff9b::a9fe:a9fe'],
  'sixtofour.attacker.example': ['2002:c0a8:1::1'],
  'teredo.attacker.example': ['2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  'multicast.attacker.example': ['224.0.0.1'],
  'broadcast.attacker.example': ['255.255.255.255'],
  // One private answer among public ones is enough: a client may connect to any of them.
  'mixed.attacker.example': ['93.184.216.34', '10.0.0.1'],
  'mixed6.attacker.example': ['2606:2800:220:1:248:1893:25c8:1946', 'fc00::5'],
  'garbage.attacker.example': ['127.0.0.1.nip.io'],
  'empty.attacker.example': [],
  'public.attacker.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
}

export const zoneResolver = (zone: Record<string, string[]> = ZONE): ResolveHost => async (host) => {
  const answer = zone[host]
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
  return answer
}

export const REFUSED: readonly RefusedCase[] = [
  // IPv4 special-purpose registry, one or two addresses per row.
  r('https://0.0.0.0:PORT/hook', addr('this-network', 'RFC 791')),
  r('https://0.1.2.3/hook', addr('this-network', 'RFC 791')),
  r('https://10.0.0.1/hook', PRIVATE),
  r('https://10.255.255.255/hook', PRIVATE),
  r('https://100.64.0.1/hook', addr('shared-address-space', 'RFC 6598')),
  r('https://100.127.255.254/hook', addr('shared-address-space', 'RFC 6598')),
  r('https://127.0.0.1:PORT/hook', LOOPBACK),
  r('https://127.8.9.10/hook', LOOPBACK),
  r('https://169.254.169.254/latest/meta-data/', METADATA),
  r('https://172.16.0.1/hook', PRIVATE),
  r('https://172.31.255.255/hook', PRIVATE),
  r('https://192.0.0.8/hook', addr('ietf-protocol-assignments', 'RFC 6890')),
  r('https://192.0.2.1/hook', addr('documentation', 'RFC 5737')),
  r('https://192.88.99.1/hook', addr('6to4-relay-anycast', 'RFC 7526')),
  r('https://192.168.1.1/hook', PRIVATE),
  r('https://198.18.0.1/hook', addr('benchmarking', 'RFC 2544')),
  r('https://198.19.255.255/hook', addr('benchmarking', 'RFC 2544')),
  r('https://198.51.100.7/hook', addr('documentation', 'RFC 5737')),
  r('https://203.0.113.9/hook', addr('documentation', 'RFC 5737')),
  r('https://224.0.0.1/hook', addr('multicast', 'RFC 5771')),
  r('https://239.255.255.250/hook', addr('multicast', 'RFC 5771')),
  r('https://240.0.0.1/hook', addr('reserved', 'RFC 1112')),
  r('https://255.255.255.255/hook', addr('limited-broadcast', 'RFC 919')),
  // Odd IPv4 forms: the WHATWG parser normalises them, and the check runs on what it produced.
  r('https://2130706433:PORT/hook', LOOPBACK),
  r('https://0177.0.0.1:PORT/hook', LOOPBACK),
  r('https://0x7f.1:PORT/hook', LOOPBACK),
  r('https://127.1:PORT/hook', LOOPBACK),
  r('https://0x7f000001:PORT/hook', LOOPBACK),
  r('https://017700000001:PORT/hook', LOOPBACK),
  r('https://127.000.000.001:PORT/hook', LOOPBACK),
  r('https://127.0.0.1.:PORT/hook', LOOPBACK),
  r('https://%31%32%37.0.0.1:PORT/hook', LOOPBACK),
  r('https://\u2460\u2461\u2466.0.0.1:PORT/hook', LOOPBACK),
  r('https://\uff11\uff12\uff17.\uff10.\uff10.\uff11:PORT/hook', LOOPBACK),
  r('https://0:PORT/hook', addr('this-network', 'RFC 791')),
  r('https://3232235521/hook', PRIVATE),
  r('https://0xa9.0xfe.0xa9.0xfe/latest/meta-data/', METADATA),
  r('https://169.254.43518/latest/meta-data/', METADATA),
  // IPv6 special-purpose registry, and every way of embedding an IPv4 address.
  r('https://[::]:PORT/hook', addr('unspecified', 'RFC 4291')),
  r('https://[::1]:PORT/hook', addr('loopback', 'RFC 4291')),
  r('https://[0:0:0:0:0:0:0:1]:PORT/hook', addr('loopback', 'RFC 4291')),
  r('https://[::ffff:127.0.0.1]:PORT/hook', addr('loopback', 'RFC 1122', MAPPED)),
  r('https://[::ffff:7f00:1]:PORT/hook', addr('loopback', 'RFC 1122', MAPPED)),
  r('https://[::ffff:169.254.169.254]/latest', addr('link-local', 'RFC 3927', MAPPED)),
  r('https://[0:0:0:0:0:ffff:a00:1]/hook', addr('private-use', 'RFC 1918', MAPPED)),
  r('https://[::127.0.0.1]:PORT/hook', addr('ipv4-compatible', 'RFC 4291')),
  r('https://[::7f00:1]:PORT/hook', addr('ipv4-compatible', 'RFC 4291')),
  r('https://[::169.254.169.254]/latest', addr('ipv4-compatible', 'RFC 4291')),
  r('https://[::10.0.0.1]/hook', addr('ipv4-compatible', 'RFC 4291')),
  r('https://[64:ff9b::127.0.0.1]/hook', addr('loopback', 'RFC 1122', NAT64)),
  r('https://[64:ff9b::a9fe:a9fe]/latest', addr('link-local', 'RFC 3927', NAT64)),
  r('https://[64:ff9b::10.0.0.1]/hook', addr('private-use', 'RFC 1918', NAT64)),
  r('https://[64:ff9b:1::a00:1]/hook', addr('nat64-local-use', 'RFC 8215')),
  r('https://[100::1]/hook', addr('discard-only', 'RFC 6666')),
  r('https://[2001::1]/hook', addr('teredo', 'RFC 4380')),
  r('https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', addr('teredo', 'RFC 4380')),
  r('https://[2001:2::1]/hook', addr('ietf-protocol-assignments', 'RFC 2928')),
  r('https://[2001:1ff:ffff::1]/hook', addr('ietf-protocol-assignments', 'RFC 2928')),
  r('https://[2001:db8::1]/hook', addr('documentation', 'RFC 3849')),
  r('https://[2002:7f00:1::]/hook', addr('loopback', 'RFC 1122', SIX_TO_FOUR)),
  r('https://[2002:a9fe:a9fe::1]/latest', addr('link-local', 'RFC 3927', SIX_TO_FOUR)),
  r('https://[2002:c0a8:101::1]/hook', addr('private-use', 'RFC 1918', SIX_TO_FOUR)),
  r('https://[3fff::1]/hook', addr('documentation', 'RFC 9637')),
  r('https://[5f00::1]/hook', addr('srv6-sids', 'RFC 9602')),
  r('https://[fc00::1]/hook', addr('unique-local', 'RFC 4193')),
  r('https://[fd12:3456::1]/hook', addr('unique-local', 'RFC 4193')),
  r('https://[fe80::1]/hook', addr('link-local', 'RFC 4291')),
  r('https://[febf:ffff::1]/hook', addr('link-local', 'RFC 4291')),
  r('https://[fec0::1]/hook', addr('site-local', 'RFC 3879')),
  r('https://[ff02::1]/hook', addr('multicast', 'RFC 4291')),
  r('https://[4000::1]/hook', addr('not-global-unicast', 'RFC 4291')),
  r('https://[::ffff:0:7f00:1]/hook', addr('not-global-unicast', 'RFC 4291')),
  // Names: special-use, trailing dot, single label, and attacker DNS answering each refused class.
  r('https://localhost:PORT/hook', /special-use name \(\.localhost, RFC 6761\)/),
  r('https://api.localhost:PORT/hook', /special-use name \(\.localhost, RFC 6761\)/),
  r('https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3:PORT/hook', /special-use name \(\.localhost, RFC 6761\)/),
  r('https://LocalHost:PORT/hook', /special-use name \(\.localhost, RFC 6761\)/),
  r('https://localhost.:PORT/hook', /trailing dot/),
  r('https://example.com./hook', /trailing dot/),
  r('https://printer.local/hook', /special-use name \(\.local, RFC 6762\)/),
  r('https://metadata.google.internal/computeMetadata/v1/', /special-use name \(\.internal, ICANN private-use TLD\)/),
  r('https://router.home.arpa/hook', /special-use name \(\.home\.arpa, RFC 8375\)/),
  r('https://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion/hook', /special-use name \(\.onion, RFC 7686\)/),
  r('https://nothing.invalid/hook', /special-use name \(\.invalid, RFC 6761\)/),
  r('https://intranet:PORT/hook', /fully qualified/),
  r('https://bad!name.example/hook', /not a valid DNS name/),
  r('https://-lead.example/hook', /not a valid DNS name/),
  r('https://loopback.attacker.example:PORT/hook', LOOPBACK),
  r('https://loopback6.attacker.example:PORT/hook', addr('loopback', 'RFC 4291')),
  r('https://metadata.attacker.example/latest/meta-data/', METADATA),
  r('https://ten.attacker.example/hook', PRIVATE),
  r('https://one-seven-two.attacker.example/hook', PRIVATE),
  r('https://lan.attacker.example/hook', PRIVATE),
  r('https://cgnat.attacker.example/hook', addr('shared-address-space', 'RFC 6598')),
  r('https://zero.attacker.example:PORT/hook', addr('this-network', 'RFC 791')),
  r('https://ula.attacker.example/hook', addr('unique-local', 'RFC 4193')),
  r('https://linklocal6.attacker.example/hook', addr('link-local', 'RFC 4291')),
  r('https://mapped.attacker.example:PORT/hook', addr('loopback', 'RFC 1122', MAPPED)),
  r('https://compat.attacker.example:PORT/hook', addr('ipv4-compatible', 'RFC 4291')),
  r('https://nat64.attacker.example/hook', addr('link-local', 'RFC 3927', NAT64)),
  r('https://sixtofour.attacker.example/hook', addr('private-use', 'RFC 1918', SIX_TO_FOUR)),
  r('https://teredo.attacker.example/hook', addr('teredo', 'RFC 4380')),
  r('https://multicast.attacker.example/hook', addr('multicast', 'RFC 5771')),
  r('https://broadcast.attacker.example/hook', addr('limited-broadcast', 'RFC 919')),
  r('https://mixed.attacker.example/hook', PRIVATE),
  r('https://mixed6.attacker.example/hook', addr('unique-local', 'RFC 4193')),
  r('https://garbage.attacker.example/hook', addr('invalid-address', 'RFC 4291')),
  r('https://empty.attacker.example/hook', /does not resolve/),
  r('https://nxdomain.attacker.example/hook', /does not resolve/),
  // URL shape: credentials, schemes, ports.
  r('https://user:pass@93.184.216.34/hook', /credentials/),
  r('https://user@93.184.216.34/hook', /credentials/),
  r('https://:secret@93.184.216.34/hook', /credentials/),
  r('http://93.184.216.34/hook', /scheme http: is not allowed/),
  r('http://127.0.0.1:PORT/hook', /scheme http: is not allowed/),
  r('ftp://93.184.216.34/hook', /scheme ftp: is not allowed/),
  r('file:///etc/passwd', /scheme file: is not allowed/),
  r('gopher://93.184.216.34:6379/_INFO', /scheme gopher: is not allowed/),
  r('ws://93.184.216.34/hook', /scheme ws: is not allowed/),
  r('javascript:alert(1)', /scheme javascript: is not allowed/),
  r('data:text/plain,hello', /scheme data: is not allowed/),
  r('https://93.184.216.34:25/hook', /port 25 is not allowed/),
  r('https://93.184.216.34:22/hook', /port 22 is not allowed/),
  r('https://93.184.216.34:6667/hook', /port 6667 is not allowed/),
  r('https://[fe80::1%25eth0]/hook', /not a valid URL/),
  r('not a url at all', /not a valid URL/),
]

/** Positive controls: global unicast, literal or resolved, and embeddings of a public IPv4 address. */
export const ALLOWED: readonly string[] = [
  'https://93.184.216.34/hook',
  'https://93.184.216.34:8443/hook',
  'https://1.1.1.1/hook',
  'https://[2606:2800:220:1:248:1893:25c8:1946]/hook',
  'https://public.attacker.example/hook',
  'https://[::ffff:93.184.216.34]/hook',
  'https://[64:ff9b::93.184.216.34]/hook',
  'https://[2002:5db8:d822::1]/hook',
]
