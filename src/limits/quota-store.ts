import type { QuotaWindow } from './plans.ts'

/** One counter a reservation must fit in. */
export interface QuotaCounter {
  scope: 'org' | 'key'
  /** `org` or `key:<credentialId>` */
  subject: string
  window: QuotaWindow
  limit: number
  windowStart: number
  resetAt: number
}

/**
 * Atomic all-or-nothing reservation: either every counter grows by `count`, or
 * none changes and the first counter that would overflow is returned with what
 * it has used. Implementations: SQL (conditional UPDATE in one transaction) and
 * Redis (one Lua script).
 */
export interface QuotaStore {
  reserve(orgId: string, counters: QuotaCounter[], count: number, now: number): Promise<{ counter: QuotaCounter; used: number } | null>
  /** Current use of each counter (0 when its window has not started). */
  usage(orgId: string, counters: QuotaCounter[]): Promise<number[]>
}
