import { promises as dns } from 'node:dns'
import type { Clock } from '../core/clock.ts'

/** node:dns/promises' resolveMx, injectable so tests point a domain at a loopback sink. */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>
}

export const systemMxResolver: MxResolver = { resolveMx: (domain) => dns.resolveMx(domain) }

export type MxLookup =
  | { kind: 'hosts'; hosts: string[] }
  /** Permanent: the domain does not exist or publishes a null MX (RFC 7505). */
  | { kind: 'none'; reason: string }
  /** Temporary DNS trouble: try later. */
  | { kind: 'error'; reason: string }

const PERMANENT_DNS = new Set(['ENOTFOUND', 'NXDOMAIN'])
const NO_RECORDS = new Set(['ENODATA'])

/**
 * MX hosts of a domain in preference order (RFC 5321 section 5.1): sorted by priority;
 * no MX record → the domain itself (implicit MX); a null MX → no mail accepted.
 * Answers are cached for `ttlMs` (by the injected clock).
 */
export function createMxLookup(resolver: MxResolver, clock: Clock, ttlMs = 5 * 60_000) {
  const cache = new Map<string, { at: number; result: MxLookup }>()
  return async function lookup(domain: string): Promise<MxLookup> {
    const now = clock.now().getTime()
    const hit = cache.get(domain)
    if (hit && now - hit.at < ttlMs) return hit.result
    let result: MxLookup
    try {
      const records = await resolver.resolveMx(domain)
      if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
        result = { kind: 'none', reason: `${domain} publishes a null MX: it accepts no mail` }
      } else if (!records.length) {
        result = { kind: 'hosts', hosts: [domain] }
      } else {
        result = { kind: 'hosts', hosts: [...records].sort((a, b) => a.priority - b.priority).map((r) => r.exchange.replace(/\.$/, '')) }
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      if (NO_RECORDS.has(code)) result = { kind: 'hosts', hosts: [domain] }
      else if (PERMANENT_DNS.has(code)) result = { kind: 'none', reason: `${domain} does not exist (DNS ${code})` }
      else return { kind: 'error', reason: `MX lookup for ${domain} failed (${code || (err as Error).message})` }
    }
    cache.set(domain, { at: now, result })
    return result
  }
}
