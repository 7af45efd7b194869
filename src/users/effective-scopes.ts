import { BUILTIN_ROLES, MFA_REQUIRED_ROLES, isBuiltinRole } from '../access/roles.ts'
import { isScope, type Scope } from '../access/scopes.ts'
import type { AccessConditions } from '../core/principal.ts'
import type { DbOrTrx } from '../storage/db.ts'
import { findMembership, type MembershipWithRole } from './membership-store.ts'

export interface MemberAccess {
  role: string
  /** Display name: the built-in role name or the custom role's name. */
  roleName: string
  scopes: Scope[]
  conditions?: AccessConditions
  /** Owner/admin, a custom role that can administer the org, or an org-wide policy. */
  mfaRequired: boolean
}

export function resolveMembership(m: MembershipWithRole): MemberAccess {
  let scopes: Scope[] = []
  let conditions: AccessConditions | undefined
  if (isBuiltinRole(m.role)) scopes = [...BUILTIN_ROLES[m.role]]
  else if (m.custom_scopes !== null) {
    // Scopes dropped from the catalogue since the role was saved simply stop applying.
    scopes = (JSON.parse(m.custom_scopes) as string[]).filter(isScope)
    conditions = m.custom_conditions ? JSON.parse(m.custom_conditions) : undefined
  }
  const mfaRequired = MFA_REQUIRED_ROLES.includes(m.role) || scopes.includes('org:admin') || m.require_mfa === 1
  return { role: m.role, roleName: m.custom_name ?? m.role, scopes, conditions, mfaRequired }
}

/** What a user may do in an organization, or null when not a member. */
export async function memberAccess(db: DbOrTrx, orgId: string, userId: string): Promise<MemberAccess | null> {
  const m = await findMembership(db, orgId, userId)
  return m ? resolveMembership(m) : null
}

/**
 * A user's scopes in an organization through their role (built-in or custom);
 * empty when not a member. keys/ calls this to keep a key within its creator's scopes.
 */
export async function effectiveScopes(db: DbOrTrx, orgId: string, userId: string): Promise<Scope[]> {
  return (await memberAccess(db, orgId, userId))?.scopes ?? []
}
