/** Why an outbound URL or connection was refused. `message` is safe to show its owner: it never holds a resolved address. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused'
}

/**
 * The Fetch Standard's "bad ports" (fetch.spec.whatwg.org/#bad-port): services that a
 * POST could be mistaken for (SMTP, IRC, SIP...). Any other port is allowed on a public
 * host, as the commercial webhook senders do; the address check is what keeps requests
 * out of internal networks, not the port.
 */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665,
  6666, 6667, 6668, 6669, 6679, 6697, 10080,
])

/**
 * Special-use names (RFC 6761 and successors) that never name a public receiver.
 * `internal` ones are what a development receiver may use with the escape hatch on.
 */
export const SPECIAL_NAMES: readonly { suffix: string; rfc: string; kind: 'internal' | 'never' }[] = [
  { suffix: 'localhost', rfc: 'RFC 6761', kind: 'internal' },
  { suffix: 'local', rfc: 'RFC 6762', kind: 'internal' },
  { suffix: 'internal', rfc: 'ICANN private-use TLD', kind: 'internal' },
  { suffix: 'home.arpa', rfc: 'RFC 8375', kind: 'internal' },
  { suffix: 'onion', rfc: 'RFC 7686', kind: 'never' },
  { suffix: 'invalid', rfc: 'RFC 6761', kind: 'never' },
]

export type TargetHost = { kind: 'address'; address: string } | { kind: 'name'; name: string }

export interface ParsedTarget {
  /** WHATWG-normalised: `https://0x7f.1/` is `https://127.0.0.1/` here, and that is what is checked and connected to. */
  url: URL
  host: TargetHost
}

const LABEL = /^[a-z0-9_-]{1,63}$/

/** A name the resolver may be asked about: LDH labels (underscore tolerated), no empty label, at most 253 characters. */
function isDnsName(name: string): boolean {
  if (name.length > 253) return false
  return name.split('.').every((l) => LABEL.test(l) && !l.startsWith('-') && !l.endsWith('-'))
}

function specialName(name: string) {
  return SPECIAL_NAMES.find((s) => name === s.suffix || name.endsWith(`.${s.suffix}`))
}

/**
 * What can be decided from the URL alone: scheme, credentials, port and the host's form.
 * Address literals come back for the classifier; names for the resolver.
 */
export function parseTarget(input: string | URL, allowPrivate: boolean): ParsedTarget {
  let url: URL
  try { url = new URL(String(input)) } catch { throw new OutboundRefused('not a valid URL') }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) throw new OutboundRefused(`scheme ${url.protocol} is not allowed (https only)`)
  if (url.username || url.password) throw new OutboundRefused('credentials in the URL are not allowed')
  if (url.port !== '' && BAD_PORTS.has(Number(url.port))) throw new OutboundRefused(`port ${url.port} is not allowed`)

  const hostname = url.hostname
  if (hostname.startsWith('[')) return { url, host: { kind: 'address', address: hostname.slice(1, -1) } }
  // After WHATWG parsing an IPv4 literal is always a canonical dotted quad (decimal, octal, hex and short forms are normalised).
  if (/^[0-9.]+$/.test(hostname)) return { url, host: { kind: 'address', address: hostname } }

  if (hostname.endsWith('.')) throw new OutboundRefused('a host name with a trailing dot is not allowed')
  if (!isDnsName(hostname)) throw new OutboundRefused('the host is not a valid DNS name')
  const special = specialName(hostname)
  if (special && !(special.kind === 'internal' && allowPrivate)) throw new OutboundRefused(`the host is a special-use name (.${special.suffix}, ${special.rfc})`)
  // One label resolves through the search domains of /etc/resolv.conf: an internal name by construction.
  if (!hostname.includes('.') && !allowPrivate) throw new OutboundRefused('the host must be a fully qualified name')
  return { url, host: { kind: 'name', name: hostname } }
}
