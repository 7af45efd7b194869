import ipaddr from 'ipaddr.js'

type Addr = ipaddr.IPv4 | ipaddr.IPv6
export type Cidr = [Addr, number]

/**
 * CIDR ranges for ABAC conditions, IPv4 and IPv6 (ipaddr.js).
 * - IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 peers) is compared as IPv4,
 *   on both sides: a range written `::ffff:192.0.2.0/120` is the IPv4 range `192.0.2.0/24`.
 * - IPv4 must be four-part decimal: `127.1` or `0x7f.0.0.1` are refused, not reinterpreted.
 * - A bare address is a /32 or /128.
 */
export function parseRange(input: string): Cidr | null {
  const text = input.includes('/') ? input : `${input}/${input.includes(':') ? 128 : 32}`
  if (!text.includes(':') && !ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return null
  let cidr: Cidr
  try { cidr = ipaddr.parseCIDR(text) } catch { return null }
  const [addr, bits] = cidr
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).zoneId) return null
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]
  }
  return cidr
}

/** The canonical text of a range (network address / prefix), as stored and shown. */
export function normalizeRange(input: string): string | null {
  const r = parseRange(input)
  if (!r) return null
  const [addr, bits] = r
  const network = addr.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
  return `${network.kind() === 'ipv6' ? (network as ipaddr.IPv6).toRFC5952String() : network.toString()}/${bits}`
}

export function parseClientIp(ip: string): Addr | null {
  try {
    return ipaddr.process(ip)
  } catch {
    return null
  }
}

export function inRange(addr: Addr, [net, bits]: Cidr): boolean {
  return addr.kind() === net.kind() && addr.match(net, bits)
}

/** True when `inner` lies entirely inside `outer` (used to keep a key no wider than its creator). */
export function rangeWithin(inner: Cidr, outer: Cidr): boolean {
  return inner[1] >= outer[1] && inRange(inner[0], outer)
}

const cache = new Map<string, Cidr | null>()
const CACHE_MAX = 10_000

/** Parsed once per distinct range text; conditions are evaluated on every request. */
export function cachedRange(text: string): Cidr | null {
  let r = cache.get(text)
  if (r === undefined) {
    r = parseRange(text)
    if (cache.size >= CACHE_MAX) cache.clear()
    cache.set(text, r)
  }
  return r
}
