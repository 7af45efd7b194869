import { domainToASCII } from 'node:url'

/**
 * The `senderDomains` condition: which From addresses a credential may send as.
 * Three forms, all compared lower-cased, domains in ASCII (punycode):
 * - `example.com`      exactly that domain (not its subdomains)
 * - `*.example.com`    any subdomain of example.com, at any depth (not example.com itself:
 *                      list both to allow both; a leading wildcard only, nothing like `a*.b`)
 * - `billing@example.com` exactly that address
 * Anything else is refused when the condition is set (normalizeSenderPattern → null).
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
// No `*` in the local part: `*@example.com` would read as a wildcard it is not.
const LOCAL = /^[a-z0-9!#$%&'+/=?^_`{|}~.-]{1,64}$/

function asciiDomain(text: string): string | null {
  const d = domainToASCII(text.toLowerCase())
  if (!d || d.length > 253) return null
  const labels = d.split('.')
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) ? d : null
}

/** Canonical form of one pattern, or null when it is none of the three forms. */
export function normalizeSenderPattern(input: string): string | null {
  const text = input.trim()
  if (text.startsWith('*.')) {
    const d = asciiDomain(text.slice(2))
    return d ? `*.${d}` : null
  }
  const at = text.lastIndexOf('@')
  if (at >= 0) {
    const local = text.slice(0, at).toLowerCase()
    const d = asciiDomain(text.slice(at + 1))
    return d && LOCAL.test(local) ? `${local}@${d}` : null
  }
  return asciiDomain(text)
}

const isSubdomain = (domain: string, parent: string) => domain.endsWith(`.${parent}`)

/** Does one (canonical) pattern admit this address? `address` is local@ascii-domain as the draft parsed it. */
function admits(pattern: string, address: string): boolean {
  const a = address.toLowerCase()
  const domain = a.slice(a.lastIndexOf('@') + 1)
  if (pattern.startsWith('*.')) return isSubdomain(domain, pattern.slice(2))
  if (pattern.includes('@')) return pattern === a
  return pattern === domain
}

export function senderAllowed(patterns: readonly string[], address: string): boolean {
  return patterns.some((p) => admits(p, address))
}

/** True when everything `inner` admits is admitted by one of `outer` (narrowing and containment). */
export function senderPatternWithin(inner: string, outer: readonly string[]): boolean {
  return outer.some((o) => {
    if (o === inner) return true
    if (!o.startsWith('*.')) return o.includes('@') ? false : inner.endsWith(`@${o}`)
    const parent = o.slice(2)
    const innerDomain = inner.startsWith('*.') ? inner.slice(2) : inner.slice(inner.lastIndexOf('@') + 1)
    // `*.a.com` covers `*.a.com`, `*.b.a.com`, `b.a.com` and `x@b.a.com`, never `a.com` itself.
    return inner.startsWith('*.') ? innerDomain === parent || isSubdomain(innerDomain, parent) : isSubdomain(innerDomain, parent)
  })
}
