import ipaddr from 'ipaddr.js'
import { IPV4_SPECIAL, IPV6_GLOBAL_UNICAST, IPV6_SPECIAL, type SpecialRange } from './special-ranges.ts'

/**
 * The one address classifier for outbound connections (SSRF guard): an address is
 * either global unicast, or it falls in a special-purpose range named by the table
 * in special-ranges.ts. ipaddr.js parses and matches prefixes; which prefixes matter is
 * decided here, not by its range() names.
 */
export type AddressClass =
  | { global: true; address: string; family: 4 | 6 }
  | { global: false; address: string; range: SpecialRange; via?: SpecialRange }

interface CompiledRange { range: SpecialRange; net: ipaddr.IPv4 | ipaddr.IPv6; bits: number }

const compile = (rows: readonly SpecialRange[]): CompiledRange[] =>
  rows.map((range) => { const [net, bits] = ipaddr.parseCIDR(range.cidr); return { range, net, bits } })
    // Longest prefix first: the narrowest row that matches names the address.
    .sort((a, b) => b.bits - a.bits)

const V4 = compile(IPV4_SPECIAL)
const V6 = compile(IPV6_SPECIAL)
const [UNICAST_NET, UNICAST_BITS] = ipaddr.parseCIDR(IPV6_GLOBAL_UNICAST)

/** Not an address in canonical form: what a DNS answer or a normalised URL host never is. */
export const INVALID_ADDRESS: SpecialRange = { cidr: '', name: 'invalid-address', rfc: 'RFC 4291', kind: 'never' }
/** IPv6 outside 2000::/3 and in no special row: unallocated, never global unicast. */
export const NOT_GLOBAL_UNICAST: SpecialRange = { cidr: '', name: 'not-global-unicast', rfc: 'RFC 4291', kind: 'never' }

/** Dotted quad with no leading zeros: the only IPv4 form accepted here (odd forms are normalised by the URL parser first). */
function parseStrictV4(text: string): ipaddr.IPv4 | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null
  }
  return ipaddr.IPv4.parse(text)
}

function parseStrict(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const v4 = parseStrictV4(text)
  if (v4) return v4
  // No zone ids (fe80::1%eth0): they pick an interface, and a URL cannot carry one.
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return null
  return ipaddr.IPv6.parse(text)
}

function match(table: CompiledRange[], addr: ipaddr.IPv4 | ipaddr.IPv6): SpecialRange | null {
  for (const row of table) if (addr.kind() === row.net.kind() && addr.match(row.net, row.bits)) return row.range
  return null
}

/** The IPv4 address carried at bit offset `at` (a multiple of 16) of an IPv6 address. */
function embeddedV4(addr: ipaddr.IPv6, at: number): ipaddr.IPv4 {
  const hi = addr.parts[at / 16]
  const lo = addr.parts[at / 16 + 1]
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])
}

function classifyV4(address: string, addr: ipaddr.IPv4): AddressClass {
  const range = match(V4, addr)
  return range ? { global: false, address, range } : { global: true, address, family: 4 }
}

export function classifyAddress(address: string): AddressClass {
  const addr = parseStrict(address)
  if (!addr) return { global: false, address, range: INVALID_ADDRESS }
  if (addr.kind() === 'ipv4') return classifyV4(address, addr as ipaddr.IPv4)
  const v6 = addr as ipaddr.IPv6
  const range = match(V6, v6)
  if (range?.kind === 'embedded') {
    const inner = classifyV4(address, embeddedV4(v6, range.v4At!))
    return inner.global ? { global: true, address, family: 6 } : { ...inner, via: range }
  }
  if (range) return { global: false, address, range }
  if (!v6.match(UNICAST_NET, UNICAST_BITS)) return { global: false, address, range: NOT_GLOBAL_UNICAST }
  return { global: true, address, family: 6 }
}

/**
 * The decision: global unicast passes; with the escape hatch on, loopback and private
 * networks pass too (directly, or IPv4-mapped), and nothing else ever does.
 */
export function isAllowed(c: AddressClass, allowPrivate: boolean): boolean {
  if (c.global) return true
  return allowPrivate && c.range.kind === 'internal' && (!c.via || c.via.sameHost === true)
}

/** For messages and logs: `loopback (RFC 1122)`, `private-use (RFC 1918) via 6to4 (RFC 3056)`. */
export function describeClass(c: AddressClass): string {
  if (c.global) return 'global unicast'
  const base = `${c.range.name} (${c.range.rfc})`
  return c.via ? `${base} via ${c.via.name} (${c.via.rfc})` : base
}
