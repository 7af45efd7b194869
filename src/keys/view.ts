import { fieldFilter } from '../access/field-filter.ts'
import type { AccessConditions, Principal } from '../core/principal.ts'
import type { OrgKeyPolicy } from './policy.ts'
import { conditionsToApi } from './schema.ts'
import type { ApiKeyRow } from './table.ts'

/** What a key looks like to API callers: never the secret, never its hash, never the lookup id. */
const keyFields = fieldFilter({
  id: true, name: true, environment: true, status: true, scopes: true, conditions: true, last4: true,
  created_by: true, created_at: true, expires_at: true, secret_issued_at: true, last_used_at: true, last_used_ip: true,
  revoked_at: true, revoked_reason: true, suspended_at: true, suspended_reason: true,
})

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString())

/**
 * `expires_at` is the effective end: the key's own expiry or, with an org maximum age, the current
 * secret's issue time plus that age, whichever comes first.
 */
export function toKeyView(principal: Principal, row: ApiKeyRow, secretIssuedAt: number | null, policy: OrgKeyPolicy, now: number) {
  const agedOut = policy.maxKeyAgeMs !== null && secretIssuedAt !== null ? secretIssuedAt + policy.maxKeyAgeMs : Infinity
  const expiresAt = Math.min(row.expires_at ?? Infinity, agedOut)
  const status = row.revoked_at !== null ? 'revoked'
    : row.suspended_at !== null ? 'suspended'
      : expiresAt <= now ? 'expired' : 'active'
  return keyFields(principal, {
    ...row,
    status,
    scopes: JSON.parse(row.scopes) as string[],
    conditions: conditionsToApi(row.conditions ? (JSON.parse(row.conditions) as AccessConditions) : null),
    created_at: iso(row.created_at),
    expires_at: iso(expiresAt === Infinity ? null : expiresAt),
    secret_issued_at: iso(secretIssuedAt),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    suspended_at: iso(row.suspended_at),
  })
}

export type KeyViewObject = ReturnType<typeof toKeyView>
