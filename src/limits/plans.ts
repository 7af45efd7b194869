/**
 * Sending quotas by plan. Precedence for an organization:
 *   orgs.settings.quotas  >  SEALPOST_QUOTA_PLANS[orgs.settings.plan]  >  SEALPOST_QUOTA_ORG / _KEY
 * A quota is "minute/hour/day[/month]" messages (0: no limit), e.g. "60/1000/10000" or
 * "60/1000/10000/200000", or { minute, hour, day, month } in org settings.
 *
 * `month` is the calendar month in UTC (resets at 00:00 UTC on the 1st), not 30 rolling days:
 * it is what plans are billed on, and it fits the fixed-window counters (one row per window,
 * restarted when a newer window begins) where a rolling window would need per-day buckets.
 */
import { ConfigError } from '../config/load.ts'

export const WINDOWS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
export type QuotaWindow = keyof typeof WINDOWS | 'month'

export type QuotaLimits = Record<keyof typeof WINDOWS, number> & { month?: number }

/** The window containing `now`: fixed-length windows aligned to the epoch (UTC), or the UTC calendar month. */
export function windowBounds(window: QuotaWindow, now: number): { start: number; end: number } {
  if (window === 'month') {
    const d = new Date(now)
    return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) }
  }
  const start = now - (now % WINDOWS[window])
  return { start, end: start + WINDOWS[window] }
}

export const QUOTA_WINDOWS: readonly QuotaWindow[] = ['minute', 'hour', 'day', 'month']
export interface QuotaPolicy { org: QuotaLimits; key: QuotaLimits }
export type PlanTable = Record<string, Partial<QuotaPolicy>>

const NONE: QuotaLimits = { minute: 0, hour: 0, day: 0 }

/** "60/1000/10000" or { minute, hour, day } → QuotaLimits; null when malformed. */
export function toLimits(v: unknown): QuotaLimits | null {
  if (typeof v === 'string') {
    const m = /^(\d{1,9})\/(\d{1,9})\/(\d{1,9})(?:\/(\d{1,10}))?$/.exec(v.trim())
    return m ? { minute: Number(m[1]), hour: Number(m[2]), day: Number(m[3]), ...(m[4] ? { month: Number(m[4]) } : {}) } : null
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const out = { ...NONE }
    for (const [k, n] of Object.entries(v)) {
      if (!(QUOTA_WINDOWS as string[]).includes(k) || !Number.isSafeInteger(n) || (n as number) < 0) return null
      out[k as QuotaWindow] = n as number
    }
    return out
  }
  return null
}

function limitsOrThrow(v: unknown, name: string, problems: string[]): QuotaLimits {
  const l = toLimits(v)
  if (!l) problems.push(`${name}: expected minute/hour/day[/month] message counts, e.g. 60/1000/10000 or 60/1000/10000/200000 (0: no limit)`)
  return l ?? NONE
}

/** Parses the config strings once at boot; throws one ConfigError naming each bad variable. */
export function parseQuotaConfig(cfg: { quotaOrg: string; quotaKey: string; quotaPlans: string }): { defaults: QuotaPolicy; plans: PlanTable } {
  const problems: string[] = []
  const defaults = { org: limitsOrThrow(cfg.quotaOrg, 'SEALPOST_QUOTA_ORG', problems), key: limitsOrThrow(cfg.quotaKey, 'SEALPOST_QUOTA_KEY', problems) }
  const plans: PlanTable = {}
  let raw: unknown
  try { raw = JSON.parse(cfg.quotaPlans) } catch { problems.push('SEALPOST_QUOTA_PLANS: not valid JSON') }
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) problems.push('SEALPOST_QUOTA_PLANS: expected a JSON object of plan name → { org, key }')
    else {
      for (const [plan, p] of Object.entries(raw)) {
        const entry: Partial<QuotaPolicy> = {}
        for (const [scope, v] of Object.entries((p ?? {}) as object)) {
          if (scope !== 'org' && scope !== 'key') { problems.push(`SEALPOST_QUOTA_PLANS: plan ${plan}: unknown scope ${scope} (org or key)`); continue }
          entry[scope] = limitsOrThrow(v, `SEALPOST_QUOTA_PLANS: plan ${plan}.${scope}`, problems)
        }
        plans[plan] = entry
      }
    }
  }
  if (problems.length) throw new ConfigError(problems)
  return { defaults, plans }
}

/** Org settings JSON → the policy that applies. Unknown plans and malformed overrides fall back to defaults. */
export function resolvePolicy(settingsJson: string | undefined, defaults: QuotaPolicy, plans: PlanTable): QuotaPolicy {
  let settings: { plan?: unknown; quotas?: { org?: unknown; key?: unknown } } = {}
  try { settings = JSON.parse(settingsJson ?? '{}') ?? {} } catch { /* defaults */ }
  const plan = typeof settings.plan === 'string' && Object.hasOwn(plans, settings.plan) ? plans[settings.plan] : {}
  return {
    org: toLimits(settings.quotas?.org) ?? plan.org ?? defaults.org,
    key: toLimits(settings.quotas?.key) ?? plan.key ?? defaults.key,
  }
}
