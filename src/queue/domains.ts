import { domainToASCII } from 'node:url'

/** Lower-case A-label form of a domain, so `Bücher.example` and `xn--bcher-kva.example` are one destination. */
export function normalizeDomain(domain: string): string {
  const lower = domain.trim().replace(/\.$/, '').toLowerCase()
  return domainToASCII(lower) || lower
}

/** Domain part of a bare address (after the last @), normalized. */
export function domainOf(address: string): string {
  return normalizeDomain(address.slice(address.lastIndexOf('@') + 1))
}
