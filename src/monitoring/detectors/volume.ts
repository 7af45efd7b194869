import { LruMap } from '../../core/lru-map.ts'
import { newRateState, record, isSpike, type RateState } from './rate-tracker.ts'
import { rangeOf } from './ip-range.ts'
import type { IpRangeDetector } from './ip-ranges.ts'
import type { RequestObservation, Signal } from './signal.ts'

export interface VolumeOptions {
  windowMs: number
  /** EWMA weight of the newest window. */
  alpha: number
  /** Windows of history before a baseline is trusted. */
  minWindows: number
  /** A spike is `factor` × baseline, and at least `minPerKey` / `minPerOrg` in one window. */
  factor: number
  minPerKey: number
  minPerOrg: number
  /** A spike from a range first seen this recently is a suspected compromise. */
  newRangeWithinMs: number
}

export const VOLUME_DEFAULTS: VolumeOptions = {
  windowMs: 60_000, alpha: 0.1, minWindows: 10, factor: 5, minPerKey: 30, minPerOrg: 100, newRangeWithinMs: 60 * 60_000,
}

/** POST /v1/messages and /v1/messages/batch that were accepted. */
const isSend = (o: RequestObservation) => o.method === 'POST' && o.status === 202 && !!o.route?.startsWith('/v1/messages')

/**
 * Request and send volume per key and per organization against an EWMA
 * baseline of recent minutes. A key's spike from an IP range it started using
 * within the last hour escalates to `key_compromise_suspected`.
 */
export function createVolumeDetector(ranges: IpRangeDetector, o: VolumeOptions = VOLUME_DEFAULTS) {
  const rate = { windowMs: o.windowMs, alpha: o.alpha }
  const states = new LruMap<string, RateState & { ips: Set<string> }>(400_000)
  const fresh = () => ({ ...newRateState(), ips: new Set<string>() })

  function track(kind: 'request' | 'send', subject: { type: 'key' | 'org'; id: string }, obs: RequestObservation): Signal | null {
    const s = states.getOrCreate(`${kind}:${subject.type}:${subject.id}`, fresh)
    const before = s.windowStart
    record(s, obs.at, rate)
    if (s.windowStart !== before) s.ips.clear()
    if (s.ips.size < 50) s.ips.add(obs.ip)
    const min = subject.type === 'key' ? o.minPerKey : o.minPerOrg
    if (!isSpike(s, { minCount: min, factor: o.factor, minWindows: o.minWindows })) return null
    const evidence = {
      kind, count: s.count, windowSec: o.windowMs / 1000, baselinePerWindow: Math.round(s.baseline * 100) / 100,
      ratio: s.baseline > 0 ? Math.round((s.count / s.baseline) * 10) / 10 : null, ips: [...s.ips].slice(0, 10),
    }
    if (subject.type === 'key') {
      const fresh = ranges.newRangesSince(subject.id, obs.at - o.newRangeWithinMs)
      const windowRanges = new Set([...s.ips].map(rangeOf))
      const suspicious = fresh.filter((r) => windowRanges.has(r))
      if (suspicious.length) {
        return {
          rule: 'key_compromise_suspected', severity: 'critical', orgId: obs.orgId, subject, keyId: subject.id, ip: obs.ip, at: obs.at,
          summary: `key ${subject.id}: ${s.count} ${kind}s in ${o.windowMs / 1000}s (baseline ${evidence.baselinePerWindow}) from a new IP range`,
          evidence: { ...evidence, newRanges: suspicious },
        }
      }
    }
    return {
      rule: kind === 'send' ? 'send_volume_spike' : 'request_volume_spike', severity: 'medium', orgId: obs.orgId, subject,
      keyId: subject.type === 'key' ? subject.id : null, ip: obs.ip, at: obs.at,
      summary: `${subject.type} ${subject.id}: ${s.count} ${kind}s in ${o.windowMs / 1000}s (baseline ${evidence.baselinePerWindow})`,
      evidence,
    }
  }

  return {
    observe(obs: RequestObservation): Signal[] {
      if (!obs.orgId || obs.status === 401) return []
      const out: (Signal | null)[] = []
      if (obs.keyId) out.push(track('request', { type: 'key', id: obs.keyId }, obs))
      out.push(track('request', { type: 'org', id: obs.orgId }, obs))
      if (isSend(obs)) {
        if (obs.keyId) out.push(track('send', { type: 'key', id: obs.keyId }, obs))
        out.push(track('send', { type: 'org', id: obs.orgId }, obs))
      }
      return out.filter((s): s is Signal => s !== null)
    },
  }
}
