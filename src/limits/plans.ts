/**
 * Sending quotas by plan. Precedence for an organization, per field:
 *   orgs.settings.quotas  >  SEALPOST_QUOTA_PLANS[orgs.settings.plan]  >  SEALPOST_QUOTA_ORG / _KEY (/ _RECIPIENTS)
 * A quota is "minute/hour/day" counts (0: no limit), e.g. "60/1000/10000", or { minute, hour, day } in
 * org settings. Four fields: `org` and `key` count messages, `org_recipients` and `key_recipients`
 * count recipients (to + cc + bcc), so one message to 50 addresses is not 1/50th of a quota. A
 * recipients field that is set nowhere takes the numbers of its messages field (as peer services
 * count recipients): "20/min" then means at most 20 messages and 20 recipients a minute.
 */
import { ConfigError } from '../config/load.ts'

export const WINDOWS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
export type QuotaWindow = keyof typeof WINDOWS

export type QuotaLimits = Record<QuotaWindow, number>
export interface QuotaPolicy { org: QuotaLimits; key: QuotaLimits; org_recipients: QuotaLimits; key_recipients: QuotaLimits }
export type QuotaField = keyof QuotaPolicy
export const QUOTA_FIELDS: readonly QuotaField[] = ['org', 'key', 'org_recipients', 'key_recipients']
export type PlanTable = Record<string, Partial<QuotaPolicy>>
/** Config defaults: a recipients field left empty follows its messages field (after plan and settings). */
export type QuotaDefaults = Pick<QuotaPolicy, 'org' | 'key'> & Partial<Pick<QuotaPolicy, 'org_recipients' | 'key_recipients'>>

const NONE: QuotaLimits = { minute: 0, hour: 0, day: 0 }

/** "60/1000/10000" or { minute, hour, day } → QuotaLimits; null when malformed. */
export function toLimits(v: unknown): QuotaLimits | null {
  if (typeof v === 'string') {
    const m = /^(\d{1,9})\/(\d{1,9})\/(\d{1,9})$/.exec(v.trim())
    return m ? { minute: Number(m[1]), hour: Number(m[2]), day: Number(m[3]) } : null
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const out = { ...NONE }
    for (const [k, n] of Object.entries(v)) {
      if (!(k in WINDOWS) || !Number.isSafeInteger(n) || (n as number) < 0) return null
      out[k as QuotaWindow] = n as number
    }
    return out
  }
  return null
}

function limitsOrThrow(v: unknown, name: string, problems: string[]): QuotaLimits {
  const l = toLimits(v)
  if (!l) problems.push(`${name}: expected minute/hour/day counts, e.g. 60/1000/10000 (0: no limit)`)
  return l ?? NONE
}

/** Parses the config strings once at boot; throws one ConfigError naming each bad variable. */
export function parseQuotaConfig(cfg: { quotaOrg: string; quotaKey: string; quotaPlans: string; quotaOrgRecipients?: string; quotaKeyRecipients?: string }): { defaults: QuotaDefaults; plans: PlanTable } {
  const problems: string[] = []
  const defaults: QuotaDefaults = { org: limitsOrThrow(cfg.quotaOrg, 'SEALPOST_QUOTA_ORG', problems), key: limitsOrThrow(cfg.quotaKey, 'SEALPOST_QUOTA_KEY', problems) }
  if (cfg.quotaOrgRecipients) defaults.org_recipients = limitsOrThrow(cfg.quotaOrgRecipients, 'SEALPOST_QUOTA_ORG_RECIPIENTS', problems)
  if (cfg.quotaKeyRecipients) defaults.key_recipients = limitsOrThrow(cfg.quotaKeyRecipients, 'SEALPOST_QUOTA_KEY_RECIPIENTS', problems)
  const plans: PlanTable = {}
  let raw: unknown
  try { raw = JSON.parse(cfg.quotaPlans) } catch { problems.push('SEALPOST_QUOTA_PLANS: not valid JSON') }
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) problems.push('SEALPOST_QUOTA_PLANS: expected a JSON object of plan name → { org, key, org_recipients, key_recipients }')
    else {
      for (const [plan, p] of Object.entries(raw)) {
        const entry: Partial<QuotaPolicy> = {}
        for (const [scope, v] of Object.entries((p ?? {}) as object)) {
          if (!QUOTA_FIELDS.includes(scope as QuotaField)) { problems.push(`SEALPOST_QUOTA_PLANS: plan ${plan}: unknown scope ${scope} (${QUOTA_FIELDS.join(', ')})`); continue }
          entry[scope as QuotaField] = limitsOrThrow(v, `SEALPOST_QUOTA_PLANS: plan ${plan}.${scope}`, problems)
        }
        plans[plan] = entry
      }
    }
  }
  if (problems.length) throw new ConfigError(problems)
  return { defaults, plans }
}

/** Org settings JSON → the policy that applies. Unknown plans and malformed overrides fall back to defaults. */
export function resolvePolicy(settingsJson: string | undefined, defaults: QuotaDefaults, plans: PlanTable): QuotaPolicy {
  let settings: { plan?: unknown; quotas?: Partial<Record<QuotaField, unknown>> } = {}
  try { settings = JSON.parse(settingsJson ?? '{}') ?? {} } catch { /* defaults */ }
  const plan = typeof settings.plan === 'string' && Object.hasOwn(plans, settings.plan) ? plans[settings.plan] : {}
  const pick = (f: QuotaField) => toLimits(settings.quotas?.[f]) ?? plan[f] ?? defaults[f]
  const org = pick('org')!
  const key = pick('key')!
  return { org, key, org_recipients: pick('org_recipients') ?? org, key_recipients: pick('key_recipients') ?? key }
}
