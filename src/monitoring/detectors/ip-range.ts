import ipaddr from 'ipaddr.js'

/** The network a client address belongs to for "never used this range" checks: IPv4 /24, IPv6 /48. */
export function rangeOf(ip: string): string {
  try {
    let addr = ipaddr.parse(ip)
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address()
    if (addr.kind() === 'ipv4') {
      const o = (addr as ipaddr.IPv4).octets
      return `${o[0]}.${o[1]}.${o[2]}.0/24`
    }
    const p = (addr as ipaddr.IPv6).parts
    return `${p.slice(0, 3).map((x) => x.toString(16)).join(':')}::/48`
  } catch {
    return 'unknown'
  }
}
