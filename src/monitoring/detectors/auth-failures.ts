import { LruMap } from '../../core/lru-map.ts'
import { rangeOf } from './ip-range.ts'
import { newRateState, record, advance, isSpike, type RateState } from './rate-tracker.ts'
import type { RequestObservation, Signal } from './signal.ts'

export interface AuthFailureOptions {
  windowMs: number
  /** Failures in one window from one IP that raise an alert (or `factor` × the IP's baseline, if higher). */
  perIp: number
  /** Failures in one window against one key (by its public lookup id), counted at most `perSourceCap` per source network. */
  perKey: number
  /** How many of a key's failures in one window one source network (IPv4 /24, IPv6 /48) may account for. */
  perSourceCap: number
  /** Distinct source networks a key's failures must come from before its organization is alerted. */
  minSources: number
  factor: number
}

export const AUTH_FAILURE_DEFAULTS: AuthFailureOptions = { windowMs: 60_000, perIp: 20, perKey: 10, perSourceCap: 3, minSources: 3, factor: 5 }

type State = RateState & { reasons: Record<string, number> }
type KeyState = State & { sources: Map<string, number> }

/**
 * Credential stuffing: failed authentications with a presented credential (not
 * merely a missing one), counted per client IP first, then per targeted key.
 *
 * A key's lookup id is public (it is in every request the key makes), so anyone can
 * present it with a wrong secret. Failures from one source therefore trip only the
 * IP-level alert, which belongs to no organization (its response blocks that IP for
 * everyone). The key's organization is alerted only for a distributed attack: failures
 * from at least `minSources` networks, each counted at most `perSourceCap` times, so
 * one network (one machine, or one IPv6 /48 of addresses) can never raise it alone.
 */
export function createAuthFailureDetector(o: AuthFailureOptions = AUTH_FAILURE_DEFAULTS) {
  const rate = { windowMs: o.windowMs, alpha: 0.2 }
  const byIp = new LruMap<string, State>(200_000)
  const byKey = new LruMap<string, KeyState>(200_000)
  const fresh = (): State => ({ ...newRateState(), reasons: {} })
  const freshKey = (): KeyState => ({ ...fresh(), sources: new Map() })

  function bump(s: State, obs: RequestObservation) {
    const before = s.windowStart
    record(s, obs.at, rate)
    if (s.windowStart !== before) s.reasons = {}
    s.reasons[obs.authFailure!] = (s.reasons[obs.authFailure!] ?? 0) + 1
  }

  /** Counts a failure against a key unless its source network already reached its share of this window. */
  function bumpKey(s: KeyState, obs: RequestObservation) {
    const before = s.windowStart
    advance(s, obs.at, rate)
    if (s.windowStart !== before) { s.reasons = {}; s.sources = new Map() }
    const source = rangeOf(obs.ip)
    const seen = s.sources.get(source) ?? 0
    s.sources.set(source, seen + 1)
    if (seen >= o.perSourceCap) return
    bump(s, obs)
  }

  return {
    observe(obs: RequestObservation): Signal[] {
      if (obs.status !== 401 || !obs.authFailure || obs.authFailure === 'missing_credentials') return []
      const out: Signal[] = []
      const ip = byIp.getOrCreate(obs.ip, fresh)
      bump(ip, obs)
      if (isSpike(ip, { minCount: o.perIp, factor: o.factor, minWindows: 0 })) {
        out.push({
          rule: 'auth_failure_burst', severity: 'high', orgId: null, subject: { type: 'ip', id: obs.ip }, ip: obs.ip, at: obs.at,
          summary: `${ip.count} failed authentications from ${obs.ip} within ${o.windowMs / 1000}s`,
          evidence: { failures: ip.count, windowSec: o.windowMs / 1000, baselinePerWindow: round(ip.baseline), reasons: { ...ip.reasons } },
        })
      }
      if (obs.credentialHint) {
        const key = byKey.getOrCreate(obs.credentialHint, freshKey)
        bumpKey(key, obs)
        if (key.sources.size >= o.minSources && isSpike(key, { minCount: o.perKey, factor: o.factor, minWindows: 0 })) {
          out.push({
            // The engine resolves the lookup id to the key and its organization.
            rule: 'auth_failure_burst', severity: 'high', orgId: null, subject: { type: 'key', id: obs.credentialHint }, ip: obs.ip, at: obs.at,
            summary: `${key.count} failed authentications against one key from ${key.sources.size} networks within ${o.windowMs / 1000}s`,
            evidence: { failures: key.count, sources: key.sources.size, windowSec: o.windowMs / 1000, lastIp: obs.ip, reasons: { ...key.reasons } },
          })
        }
      }
      return out
    },
  }
}

const round = (n: number) => Math.round(n * 100) / 100
