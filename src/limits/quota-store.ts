import type { QuotaWindow } from './plans.ts'

/** One counter a reservation must fit in. */
export interface QuotaCounter {
  scope: 'org' | 'key'
  /** What it counts: messages, or their recipients (to + cc + bcc). */
  unit: 'messages' | 'recipients'
  /**
   * `org` (live) or `org:test`, or `key:<credentialId>`; `:rcpt` appended for recipients. Test sends
   * have their own org counters: the sandbox never uses up the live quota.
   */
  subject: string
  window: QuotaWindow
  limit: number
  /** How much this reservation adds to it. */
  amount: number
  windowStart: number
  resetAt: number
}

/**
 * Atomic all-or-nothing reservation: either every counter grows by its `amount`, or
 * none changes and the first counter that would overflow is returned with what
 * it has used. Implementations: SQL (conditional UPDATE in one transaction) and
 * Redis (one Lua script).
 */
export interface QuotaStore {
  reserve(orgId: string, counters: QuotaCounter[], now: number): Promise<{ counter: QuotaCounter; used: number } | null>
  /** Current use of each counter (0 when its window has not started). */
  usage(orgId: string, counters: QuotaCounter[]): Promise<number[]>
}
