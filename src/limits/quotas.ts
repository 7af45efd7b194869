/**
 * Sending quotas: messages and recipients per minute, hour and day, per organization
 * and per credential, and per environment (test sends have their own organization
 * counters, so the sandbox never uses up the live quota; a key has one environment).
 * `reserve(principal, { messages, recipients })` is all-or-nothing: a batch that would
 * cross any limit is refused whole (429 quota_exceeded, Retry-After, and what remains
 * in `details`), and nothing is counted, in any dimension.
 */
import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { findOrg } from '../orgs/store.ts'
import { WINDOWS, resolvePolicy, type PlanTable, type QuotaDefaults, type QuotaPolicy, type QuotaWindow } from './plans.ts'
import type { QuotaCounter, QuotaStore } from './quota-store.ts'

/** What one send reserves: its messages and their recipients (to + cc + bcc, after suppressions). */
export interface QuotaAmount { messages: number; recipients: number }

export interface SendQuotas {
  reserve(principal: Principal, amount: QuotaAmount): Promise<void>
  /** What is used and left in each limited window, for a usage endpoint or headers. */
  usage(principal: Principal): Promise<{ scope: 'org' | 'key'; unit: 'messages' | 'recipients'; window: QuotaWindow; limit: number; used: number; remaining: number; resetAt: string }[]>
}

export interface SendQuotaDeps {
  db: Db
  clock: Clock
  store: QuotaStore
  defaults: QuotaDefaults
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

  const DIMENSIONS = [
    { field: 'org', scope: 'org', unit: 'messages' },
    { field: 'key', scope: 'key', unit: 'messages' },
    { field: 'org_recipients', scope: 'org', unit: 'recipients' },
    { field: 'key_recipients', scope: 'key', unit: 'recipients' },
  ] as const

  function countersFor(principal: Principal, policy: QuotaPolicy, amount: QuotaAmount, now: number): QuotaCounter[] {
    const out: QuotaCounter[] = []
    // Live keeps the historical `org` subject; the sandbox counts apart.
    const org = principal.environment === 'live' ? 'org' : `org:${principal.environment}`
    for (const d of DIMENSIONS) {
      const subject = (d.scope === 'org' ? org : `key:${principal.credentialId}`) + (d.unit === 'recipients' ? ':rcpt' : '')
      for (const window of Object.keys(WINDOWS) as QuotaWindow[]) {
        const limit = policy[d.field][window]
        if (!limit) continue
        const windowStart = now - (now % WINDOWS[window])
        out.push({ scope: d.scope, unit: d.unit, subject, window, limit, amount: amount[d.unit], windowStart, resetAt: windowStart + WINDOWS[window] })
      }
    }
    return out
  }

  function exceeded(c: QuotaCounter, used: number, now: number): AppError {
    const remaining = Math.max(0, c.limit - used)
    const retryAfter = Math.max(1, Math.ceil((c.resetAt - now) / 1000))
    const who = c.scope === 'org' ? 'this organization' : 'this API key'
    return new AppError('quota_exceeded', `Sending quota exceeded: ${who} may send ${c.limit} ${c.unit} per ${c.window}; ${remaining} left in this window, ${c.amount} requested. Nothing was sent.`, {
      details: { scope: c.scope, unit: c.unit, window: c.window, limit: c.limit, remaining, requested: c.amount, resetAt: new Date(c.resetAt).toISOString() },
      headers: { 'retry-after': String(retryAfter) },
    })
  }

  return {
    async reserve(principal, amount) {
      if (!Number.isSafeInteger(amount.messages) || amount.messages < 1 || !Number.isSafeInteger(amount.recipients) || amount.recipients < 0) {
        throw new AppError('invalid_request', 'A reservation is for at least one message and a whole number of recipients.')
      }
      const now = deps.clock.now().getTime()
      const counters = countersFor(principal, await policyFor(principal.orgId, now), amount, now)
      if (!counters.length) return
      // A batch larger than a whole window can never fit: refuse without touching the store.
      const tooBig = counters.find((c) => c.amount > c.limit)
      if (tooBig) {
        const [used] = await deps.store.usage(principal.orgId, [tooBig])
        throw exceeded(tooBig, used, now)
      }
      // Nothing to count (every recipient suppressed) still counts the message, never a negative.
      const refused = await deps.store.reserve(principal.orgId, counters.filter((c) => c.amount > 0), now)
      if (refused) throw exceeded(refused.counter, refused.used, now)
    },
    async usage(principal) {
      const now = deps.clock.now().getTime()
      const counters = countersFor(principal, await policyFor(principal.orgId, now), { messages: 0, recipients: 0 }, now)
      const used = await deps.store.usage(principal.orgId, counters)
      return counters.map((c, i) => ({ scope: c.scope, unit: c.unit, window: c.window, limit: c.limit, used: used[i], remaining: Math.max(0, c.limit - used[i]), resetAt: new Date(c.resetAt).toISOString() }))
    },
  }
}
