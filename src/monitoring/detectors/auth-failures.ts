import { LruMap } from '../../core/lru-map.ts'
import { newRateState, record, isSpike, type RateState } from './rate-tracker.ts'
import type { RequestObservation, Signal } from './signal.ts'

export interface AuthFailureOptions {
  windowMs: number
  /** Failures in one window from one IP that raise an alert (or `factor` × the IP's baseline, if higher). */
  perIp: number
  /** Failures in one window against one key (by its public lookup id). */
  perKey: number
  factor: number
}

export const AUTH_FAILURE_DEFAULTS: AuthFailureOptions = { windowMs: 60_000, perIp: 20, perKey: 10, factor: 5 }

type State = RateState & { reasons: Record<string, number> }

/**
 * Credential stuffing: failed authentications with a presented credential
 * (not merely a missing one) counted per client IP and per targeted key.
 */
export function createAuthFailureDetector(o: AuthFailureOptions = AUTH_FAILURE_DEFAULTS) {
  const rate = { windowMs: o.windowMs, alpha: 0.2 }
  const byIp = new LruMap<string, State>(200_000)
  const byKey = new LruMap<string, State>(200_000)
  const fresh = (): State => ({ ...newRateState(), reasons: {} })

  function bump(s: State, obs: RequestObservation) {
    const before = s.windowStart
    record(s, obs.at, rate)
    if (s.windowStart !== before) s.reasons = {}
    s.reasons[obs.authFailure!] = (s.reasons[obs.authFailure!] ?? 0) + 1
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
        const key = byKey.getOrCreate(obs.credentialHint, fresh)
        bump(key, obs)
        if (isSpike(key, { minCount: o.perKey, factor: o.factor, minWindows: 0 })) {
          out.push({
            // The engine resolves the lookup id to the key and its organization.
            rule: 'auth_failure_burst', severity: 'high', orgId: null, subject: { type: 'key', id: obs.credentialHint }, ip: obs.ip, at: obs.at,
            summary: `${key.count} failed authentications against one key within ${o.windowMs / 1000}s`,
            evidence: { failures: key.count, windowSec: o.windowMs / 1000, lastIp: obs.ip, reasons: { ...key.reasons } },
          })
        }
      }
      return out
    },
  }
}

const round = (n: number) => Math.round(n * 100) / 100
