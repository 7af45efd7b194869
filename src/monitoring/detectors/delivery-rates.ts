import { LruMap } from '../../core/lru-map.ts'
import type { Signal } from './signal.ts'

export interface DeliveryRateOptions {
  windowMs: number
  alpha: number
  /** Messages in the window before a rate is judged. */
  minVolume: number
  /** A spike is above both the absolute floor and `factor` × the learned rate. */
  bounceFloor: number
  complaintFloor: number
  factor: number
}

export const DELIVERY_RATE_DEFAULTS: DeliveryRateOptions = {
  windowMs: 60 * 60_000, alpha: 0.2, minVolume: 50, bounceFloor: 0.05, complaintFloor: 0.003, factor: 3,
}

export type DeliveryFeedback = 'delivered' | 'bounced' | 'complained'

interface Org { windowStart: number; sent: number; bounced: number; complained: number; bounceRate: number; complaintRate: number; windows: number; fired: Set<string> }

/** Bounce and complaint rates per organization, against their EWMA over past hours. */
export function createDeliveryRateDetector(o: DeliveryRateOptions = DELIVERY_RATE_DEFAULTS) {
  const orgs = new LruMap<string, Org>(100_000)

  function roll(s: Org, at: number) {
    const start = at - (at % o.windowMs)
    if (start === s.windowStart) return
    if (s.windowStart >= 0 && s.sent > 0) {
      const w = s.windows === 0 ? 1 : o.alpha
      s.bounceRate = w * (s.bounced / s.sent) + (1 - w) * s.bounceRate
      s.complaintRate = w * (s.complained / s.sent) + (1 - w) * s.complaintRate
      s.windows++
    }
    Object.assign(s, { windowStart: start, sent: 0, bounced: 0, complained: 0, fired: new Set<string>() })
  }

  return {
    /** delivery/ calls this for each recipient outcome; suppressions/ for each complaint. */
    record(orgId: string, kind: DeliveryFeedback, at: number): Signal[] {
      const s = orgs.getOrCreate(orgId, () => ({ windowStart: -1, sent: 0, bounced: 0, complained: 0, bounceRate: 0, complaintRate: 0, windows: 0, fired: new Set<string>() }))
      roll(s, at)
      if (kind === 'complained') s.complained++
      else { s.sent++; if (kind === 'bounced') s.bounced++ }
      if (s.sent < o.minVolume) return []
      const out: Signal[] = []
      const check = (rule: 'bounce_rate_spike' | 'complaint_rate_spike', n: number, learned: number, floor: number) => {
        const rate = n / s.sent
        if (s.fired.has(rule) || rate < Math.max(floor, o.factor * learned)) return
        s.fired.add(rule)
        out.push({
          rule, severity: 'high', orgId, subject: { type: 'org', id: orgId }, at,
          summary: `${rule === 'bounce_rate_spike' ? 'bounce' : 'complaint'} rate ${(rate * 100).toFixed(2)}% over ${s.sent} messages this hour (usual ${(learned * 100).toFixed(2)}%)`,
          evidence: { rate: Math.round(rate * 10000) / 10000, baselineRate: Math.round(learned * 10000) / 10000, messages: s.sent, events: n, windowSec: o.windowMs / 1000 },
        })
      }
      check('bounce_rate_spike', s.bounced, s.bounceRate, o.bounceFloor)
      check('complaint_rate_spike', s.complained, s.complaintRate, o.complaintFloor)
      return out
    },
  }
}
