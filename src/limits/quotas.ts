/**
 * Sending quotas: messages per minute, hour and day, per organization and per
 * credential. `reserve(principal, count)` is all-or-nothing: a batch that would
 * cross any limit is refused whole (429 quota_exceeded, Retry-After, and what
 * remains in `details`), and nothing is counted.
 */
import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { findOrg } from '../orgs/store.ts'
import { QUOTA_WINDOWS, windowBounds, resolvePolicy, type PlanTable, type QuotaPolicy, type QuotaWindow } from './plans.ts'
import type { QuotaCounter, QuotaStore } from './quota-store.ts'

export interface SendQuotas {
  reserve(principal: Principal, count: number): Promise<void>
  /** What is used and left in each limited window, for a usage endpoint or headers. */
  usage(principal: Principal): Promise<{ scope: 'org' | 'key'; window: QuotaWindow; limit: number; used: number; remaining: number; resetAt: string }[]>
}

export interface SendQuotaDeps {
  db: Db
  clock: Clock
  store: QuotaStore
  defaults: QuotaPolicy
  plans: PlanTable
  /** How long an org's resolved policy is cached in-process (settings change rarely). */
  policyTtlMs?: number
}

export function createSendQuotas(deps: SendQuotaDeps): SendQuotas {
  const ttl = deps.policyTtlMs ?? 30_000
  const cache = new Map<string, { policy: QuotaPolicy; until: number }>()

  async function policyFor(orgId: string, now: number): Promise<QuotaPolicy> {
    const hit = cache.get(orgId)
    if (hit && hit.until > now) return hit.policy
    const org = await findOrg(deps.db, orgId)
    const policy = resolvePolicy(org?.settings, deps.defaults, deps.plans)
    if (cache.size > 10_000) cache.clear()
    cache.set(orgId, { policy, until: now + ttl })
    return policy
  }

  function countersFor(principal: Principal, policy: QuotaPolicy, now: number): QuotaCounter[] {
    const out: QuotaCounter[] = []
    for (const scope of ['org', 'key'] as const) {
      for (const window of QUOTA_WINDOWS) {
        const limit = policy[scope][window]
        if (!limit) continue
        const { start, end } = windowBounds(window, now)
        out.push({ scope, subject: scope === 'org' ? 'org' : `key:${principal.credentialId}`, window, limit, windowStart: start, resetAt: end })
      }
    }
    return out
  }

  function exceeded(c: QuotaCounter, used: number, count: number, now: number): AppError {
    const remaining = Math.max(0, c.limit - used)
    const retryAfter = Math.max(1, Math.ceil((c.resetAt - now) / 1000))
    const who = c.scope === 'org' ? 'this organization' : 'this API key'
    return new AppError('quota_exceeded', `Sending quota exceeded: ${who} may send ${c.limit} messages per ${c.window}; ${remaining} left in this window, ${count} requested. Nothing was sent.`, {
      details: { scope: c.scope, window: c.window, limit: c.limit, remaining, requested: count, resetAt: new Date(c.resetAt).toISOString() },
      headers: { 'retry-after': String(retryAfter) },
    })
  }

  return {
    async reserve(principal, count) {
      if (!Number.isSafeInteger(count) || count < 1) throw new AppError('invalid_request', 'A reservation is for at least one message.')
      const now = deps.clock.now().getTime()
      const counters = countersFor(principal, await policyFor(principal.orgId, now), now)
      if (!counters.length) return
      // A batch larger than a whole window can never fit: refuse without touching the store.
      const tooBig = counters.find((c) => count > c.limit)
      if (tooBig) {
        const [used] = await deps.store.usage(principal.orgId, [tooBig])
        throw exceeded(tooBig, used, count, now)
      }
      const refused = await deps.store.reserve(principal.orgId, counters, count, now)
      if (refused) throw exceeded(refused.counter, refused.used, count, now)
    },
    async usage(principal) {
      const now = deps.clock.now().getTime()
      const counters = countersFor(principal, await policyFor(principal.orgId, now), now)
      const used = await deps.store.usage(principal.orgId, counters)
      return counters.map((c, i) => ({ scope: c.scope, window: c.window, limit: c.limit, used: used[i], remaining: Math.max(0, c.limit - used[i]), resetAt: new Date(c.resetAt).toISOString() }))
    },
  }
}
