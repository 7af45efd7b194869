import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import type { Clock } from '../core/clock.ts'
import { classifyAddress, isAllowed } from '../net/classify.ts'
import { resolveWithin, type ResolveHost } from '../net/resolve.ts'

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

/** One MX host and the checked address a connection to it is pinned to. */
export interface MxTarget { host: string; address: string }

export type MxTargets =
  | { kind: 'targets'; targets: MxTarget[] }
  /** Permanent: every MX host resolved, and only to addresses the outbound classifier refuses. */
  | { kind: 'refused'; reason: string }
  /** No host resolved (DNS trouble, or names that vanished): try later. */
  | { kind: 'error'; reason: string }

/**
 * SSRF guard of direct-to-MX delivery: whoever controls a recipient domain controls its
 * MX and A records, so each MX host is resolved once here, every address the net/
 * classifier refuses is dropped, and the connection is pinned to a checked address
 * (nodemailer never resolves the name again, so a second answer cannot rebind it).
 * The reason names the MX hosts only: which internal address they pointed at stays out
 * of events a customer reads.
 */
export async function pinMxHosts(hosts: string[], resolve: ResolveHost, allowPrivate: boolean, signal: AbortSignal): Promise<MxTargets> {
  const targets: MxTarget[] = []
  const refused: string[] = []
  let dnsTrouble: string | null = null
  for (const host of hosts) {
    let answers: string[]
    try {
      // An MX that names an address (RFC 5321 forbids it, some publish it anyway) is checked as is.
      answers = isIP(host) ? [host] : await resolveWithin(resolve, host, signal)
    } catch (err) {
      if (signal.aborted) throw err
      dnsTrouble ??= `MX host ${host} does not resolve (${(err as { code?: string }).code ?? 'DNS error'})`
      continue
    }
    const allowed = answers.find((a) => isAllowed(classifyAddress(a), allowPrivate))
    if (allowed) targets.push({ host, address: allowed })
    else if (answers.length) refused.push(host)
    else dnsTrouble ??= `MX host ${host} has no address`
  }
  if (targets.length) return { kind: 'targets', targets }
  if (dnsTrouble) return { kind: 'error', reason: dnsTrouble }
  const reason = refused.length === 1
    ? `MX host ${refused[0]} resolves only to non-public addresses`
    : `MX hosts ${refused.join(', ')} resolve only to non-public addresses`
  return { kind: 'refused', reason }
}
