import { DAY, type Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import { findOrg, mergeOrgSettings } from '../orgs/store.ts'

/**
 * The organization's key policy, from `orgs.settings`:
 * - `maxKeyAgeDays`: a key secret older than this stops working (rotation issues a fresh secret, so
 *   rotating is how a key stays within policy). Unset: no maximum.
 * - `keyExpiryWarningDays`: how long before a key expires its responses carry the warning header
 *   (default 7).
 */
export interface OrgKeyPolicy {
  maxKeyAgeMs: number | null
  warnBeforeMs: number
}

export interface KeyPolicy {
  forOrg(orgId: string): Promise<OrgKeyPolicy>
}

export const DEFAULT_WARNING_DAYS = 7
export const MAX_POLICY_DAYS = 3650

export interface KeyPolicySettings { maxKeyAgeDays: number | null; keyExpiryWarningDays: number }

export function policyFromSettings(settings: Record<string, unknown>): OrgKeyPolicy {
  const s = readSettings(settings)
  return { maxKeyAgeMs: s.maxKeyAgeDays === null ? null : s.maxKeyAgeDays * DAY, warnBeforeMs: s.keyExpiryWarningDays * DAY }
}

function readSettings(settings: Record<string, unknown>): KeyPolicySettings {
  const days = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_POLICY_DAYS ? v : null)
  return { maxKeyAgeDays: days(settings.maxKeyAgeDays), keyExpiryWarningDays: days(settings.keyExpiryWarningDays) ?? DEFAULT_WARNING_DAYS }
}

/**
 * Reads the policy on the auth path, cached per org for `cacheMs` of (injected) clock time: a policy
 * change made through this process applies at once (`update` invalidates); other processes see it
 * within `cacheMs`.
 */
export function createOrgKeyPolicy(deps: { db: Db; clock: Clock; cacheMs?: number }) {
  const cacheMs = deps.cacheMs ?? 10_000
  const cache = new Map<string, { at: number; policy: OrgKeyPolicy }>()

  async function settingsOf(orgId: string): Promise<Record<string, unknown>> {
    const org = await findOrg(deps.db, orgId)
    try { return org ? JSON.parse(org.settings) : {} } catch { return {} }
  }

  return {
    async forOrg(orgId: string): Promise<OrgKeyPolicy> {
      const now = deps.clock.now().getTime()
      const hit = cache.get(orgId)
      if (hit && now - hit.at < cacheMs) return hit.policy
      const policy = policyFromSettings(await settingsOf(orgId))
      if (cache.size > 10_000) cache.clear()
      cache.set(orgId, { at: now, policy })
      return policy
    },
    async read(orgId: string): Promise<KeyPolicySettings> {
      return readSettings(await settingsOf(orgId))
    },
    async update(orgId: string, patch: Partial<KeyPolicySettings>): Promise<KeyPolicySettings | null> {
      const settings = await mergeOrgSettings(deps.db, orgId, patch)
      cache.delete(orgId)
      return settings ? readSettings(settings) : null
    },
  }
}

export type OrgKeyPolicyStore = ReturnType<typeof createOrgKeyPolicy>
