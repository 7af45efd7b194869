/**
 * The IANA special-purpose address registries, as data: every range an outbound
 * connection must not reach, with the RFC that defines it. The classifier
 * (classify.ts) matches the longest prefix, so a narrower row (Teredo inside
 * 2001::/23, ::1 inside ::/96) names the address more precisely.
 *
 * Sources: iana.org/assignments/iana-ipv4-special-registry and
 * iana-ipv6-special-registry (RFC 6890), plus the deprecated ranges they no longer list.
 * Everything outside 2000::/3 is refused for IPv6 too (not global unicast, RFC 4291 §2.4).
 */

/**
 * - `internal`: loopback and private networks a test or development receiver may use; the one
 *   escape hatch (SEALPOST_WEBHOOK_ALLOW_PRIVATE) opens these and nothing else.
 * - `never`: refused whatever the configuration (metadata services on link-local, multicast,
 *   documentation, reserved...).
 * - `embedded`: an IPv6 form that carries an IPv4 address; the embedded address is classified.
 */
export type RangeKind = 'internal' | 'never' | 'embedded'

export interface SpecialRange {
  cidr: string
  name: string
  rfc: string
  kind: RangeKind
  /** `embedded` only: the bit offset of the IPv4 address inside the IPv6 one. */
  v4At?: number
  /**
   * `embedded` only: whether the escape hatch reaches through (the mapped form IS the IPv4
   * address on a dual-stack socket; translated forms are not, they route through a gateway).
   */
  sameHost?: boolean
}

export const IPV4_SPECIAL: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', name: 'this-network', rfc: 'RFC 791', kind: 'never' },
  { cidr: '10.0.0.0/8', name: 'private-use', rfc: 'RFC 1918', kind: 'internal' },
  { cidr: '100.64.0.0/10', name: 'shared-address-space', rfc: 'RFC 6598', kind: 'internal' },
  { cidr: '127.0.0.0/8', name: 'loopback', rfc: 'RFC 1122', kind: 'internal' },
  { cidr: '169.254.0.0/16', name: 'link-local', rfc: 'RFC 3927', kind: 'never' },
  { cidr: '172.16.0.0/12', name: 'private-use', rfc: 'RFC 1918', kind: 'internal' },
  { cidr: '192.0.0.0/24', name: 'ietf-protocol-assignments', rfc: 'RFC 6890', kind: 'never' },
  { cidr: '192.0.2.0/24', name: 'documentation', rfc: 'RFC 5737', kind: 'never' },
  { cidr: '192.88.99.0/24', name: '6to4-relay-anycast', rfc: 'RFC 7526', kind: 'never' },
  { cidr: '192.168.0.0/16', name: 'private-use', rfc: 'RFC 1918', kind: 'internal' },
  { cidr: '198.18.0.0/15', name: 'benchmarking', rfc: 'RFC 2544', kind: 'never' },
  { cidr: '198.51.100.0/24', name: 'documentation', rfc: 'RFC 5737', kind: 'never' },
  { cidr: '203.0.113.0/24', name: 'documentation', rfc: 'RFC 5737', kind: 'never' },
  { cidr: '224.0.0.0/4', name: 'multicast', rfc: 'RFC 5771', kind: 'never' },
  { cidr: '240.0.0.0/4', name: 'reserved', rfc: 'RFC 1112', kind: 'never' },
  { cidr: '255.255.255.255/32', name: 'limited-broadcast', rfc: 'RFC 919', kind: 'never' },
]

export const IPV6_SPECIAL: readonly SpecialRange[] = [
  { cidr: '::/128', name: 'unspecified', rfc: 'RFC 4291', kind: 'never' },
  { cidr: '::1/128', name: 'loopback', rfc: 'RFC 4291', kind: 'internal' },
  { cidr: '::ffff:0:0/96', name: 'ipv4-mapped', rfc: 'RFC 4291', kind: 'embedded', v4At: 96, sameHost: true },
  // Deprecated (RFC 4291 §2.5.5.1): nothing legitimate lives here, and stacks disagree on what it reaches.
  { cidr: '::/96', name: 'ipv4-compatible', rfc: 'RFC 4291', kind: 'never' },
  { cidr: '64:ff9b::/96', name: 'nat64', rfc: 'RFC 6052', kind: 'embedded', v4At: 96, sameHost: false },
  { cidr: '64:ff9b:1::/48', name: 'nat64-local-use', rfc: 'RFC 8215', kind: 'never' },
  { cidr: '100::/64', name: 'discard-only', rfc: 'RFC 6666', kind: 'never' },
  { cidr: '2001::/23', name: 'ietf-protocol-assignments', rfc: 'RFC 2928', kind: 'never' },
  // The server's IPv4 address is obfuscated (XOR) in the last 32 bits: refused outright.
  { cidr: '2001::/32', name: 'teredo', rfc: 'RFC 4380', kind: 'never' },
  { cidr: '2001:db8::/32', name: 'documentation', rfc: 'RFC 3849', kind: 'never' },
  { cidr: '2002::/16', name: '6to4', rfc: 'RFC 3056', kind: 'embedded', v4At: 16, sameHost: false },
  { cidr: '3fff::/20', name: 'documentation', rfc: 'RFC 9637', kind: 'never' },
  { cidr: '5f00::/16', name: 'srv6-sids', rfc: 'RFC 9602', kind: 'never' },
  { cidr: 'fc00::/7', name: 'unique-local', rfc: 'RFC 4193', kind: 'internal' },
  { cidr: 'fe80::/10', name: 'link-local', rfc: 'RFC 4291', kind: 'never' },
  { cidr: 'fec0::/10', name: 'site-local', rfc: 'RFC 3879', kind: 'never' },
  { cidr: 'ff00::/8', name: 'multicast', rfc: 'RFC 4291', kind: 'never' },
]

/** The only IPv6 space allocated for global unicast (IANA IPv6 address space registry). */
export const IPV6_GLOBAL_UNICAST = '2000::/3'
