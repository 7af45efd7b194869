import { LruMap } from '../../core/lru-map.ts'
import type { RequestObservation, Signal } from './signal.ts'

export interface OffHoursOptions {
  /** Requests and days of history before a key's hours are considered known. */
  minRequests: number
  minDays: number
  /** An hour holding less than this share of the key's past traffic is unusual. */
  maxShare: number
}

export const OFF_HOURS_DEFAULTS: OffHoursOptions = { minRequests: 200, minDays: 3, maxShare: 0.01 }

const HOUR = 3_600_000
const DAY = 24 * HOUR

interface Hours { counts: number[]; total: number; firstSeen: number; lastFired: number }

/** Activity at an hour (UTC) in which the key has almost never been used. */
export function createOffHoursDetector(o: OffHoursOptions = OFF_HOURS_DEFAULTS) {
  const keys = new LruMap<string, Hours>(200_000)
  return {
    observe(obs: RequestObservation): Signal[] {
      if (!obs.keyId || obs.status === 401) return []
      const k = keys.getOrCreate(obs.keyId, () => ({ counts: new Array(24).fill(0), total: 0, firstSeen: obs.at, lastFired: -1 }))
      const hour = new Date(obs.at).getUTCHours()
      const learned = k.total >= o.minRequests && obs.at - k.firstSeen >= o.minDays * DAY
      const share = k.total ? k.counts[hour] / k.total : 0
      k.counts[hour]++
      k.total++
      const slot = Math.floor(obs.at / HOUR)
      if (!learned || share >= o.maxShare || k.lastFired === slot) return []
      k.lastFired = slot
      const usual = k.counts.map((c, h) => [h, c] as const).filter(([, c]) => c / k.total >= 0.05).map(([h]) => h)
      return [{
        rule: 'off_hours_activity', severity: 'low', orgId: obs.orgId, subject: { type: 'key', id: obs.keyId }, keyId: obs.keyId, ip: obs.ip, at: obs.at,
        summary: `key ${obs.keyId} used at ${String(hour).padStart(2, '0')}:00 UTC, an hour it is almost never used`,
        evidence: { hourUtc: hour, shareOfHistory: Math.round(share * 10000) / 10000, usualHoursUtc: usual, ip: obs.ip },
      }]
    },
  }
}
