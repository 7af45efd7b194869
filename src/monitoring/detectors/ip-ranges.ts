import { LruMap } from '../../core/lru-map.ts'
import { rangeOf } from './ip-range.ts'
import type { RequestObservation, Signal } from './signal.ts'

export interface IpRangeOptions {
  /** A key is "known" (and a new range noteworthy) after this many requests... */
  minRequests: number
  /** ...spread over at least this long. */
  minAgeMs: number
  /** Ranges remembered per key. */
  maxRanges: number
}

export const IP_RANGE_DEFAULTS: IpRangeOptions = { minRequests: 50, minAgeMs: 10 * 60_000, maxRanges: 256 }

interface KeyRanges { firstSeen: number; requests: number; ranges: Map<string, number> }

/** Per key: the IP ranges it has been used from, and when each was first seen. */
export function createIpRangeDetector(o: IpRangeOptions = IP_RANGE_DEFAULTS) {
  const keys = new LruMap<string, KeyRanges>(200_000)
  return {
    observe(obs: RequestObservation): Signal[] {
      if (!obs.keyId || obs.status === 401) return []
      const k = keys.getOrCreate(obs.keyId, () => ({ firstSeen: obs.at, requests: 0, ranges: new Map() }))
      const range = rangeOf(obs.ip)
      const learned = k.requests >= o.minRequests && obs.at - k.firstSeen >= o.minAgeMs
      k.requests++
      if (k.ranges.has(range)) return []
      if (k.ranges.size >= o.maxRanges) k.ranges.delete(k.ranges.keys().next().value as string)
      k.ranges.set(range, obs.at)
      if (!learned) return []
      return [{
        rule: 'new_ip_range', severity: 'low', orgId: obs.orgId, subject: { type: 'key', id: obs.keyId }, keyId: obs.keyId, ip: obs.ip, at: obs.at,
        summary: `key ${obs.keyId} used from ${range}, a range it never used before`,
        evidence: { ip: obs.ip, range, knownRanges: [...k.ranges.keys()].filter((r) => r !== range).slice(0, 20) },
      }]
    },
    /** Ranges this key started using at or after `since`, once it had a history elsewhere (not its first ranges). */
    newRangesSince(keyId: string, since: number): string[] {
      const k = keys.get(keyId)
      if (!k) return []
      return [...k.ranges].filter(([, first]) => first >= since && first - k.firstSeen >= o.minAgeMs).map(([r]) => r)
    },
  }
}

export type IpRangeDetector = ReturnType<typeof createIpRangeDetector>
