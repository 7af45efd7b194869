import { BUILTIN_ROLES, isBuiltinRole } from '../access/roles.ts'
import { isScope, type Scope } from '../access/scopes.ts'
import { conditionsWithin, narrowConditions, normalizeConditions } from '../access/narrow-conditions.ts'
import { AppError } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { AccessConditions, Principal } from '../core/principal.ts'
import type { UsersDeps, RequestMeta } from './deps.ts'
import { memberAccess, resolveMembership } from './effective-scopes.ts'
import {
  countMembersWithRole, deleteCustomRole, deleteMembership, findAuthPolicy, findCustomRole, findCustomRoleByName, findMembership,
  insertCustomRole, listCustomRoles, listMembers, updateCustomRole, updateMemberRole, upsertAuthPolicy,
} from './membership-store.ts'

/**
 * Members, roles and the org's sign-in policy. Everything is scoped to the
 * caller's organization (another org's member or role is `not_found`). Rules:
 * - nobody grants more than they hold: a role's scopes must be a subset of the caller's;
 * - only an owner makes or unmakes an owner, and the last owner stays;
 * - every change is audited and, for a user session, needs a fresh step-up.
 */
export function createMemberService(deps: UsersDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  function audit(p: Principal, meta: RequestMeta, action: string, target: { type: string; id: string }, details?: Record<string, unknown>) {
    deps.audit.record({ orgId: p.orgId, actor: p.actor, action, target, outcome: 'success', ip: meta.ip, requestId: meta.requestId, details })
  }

  async function isOwner(p: Principal): Promise<boolean> {
    return p.actor.type === 'user' && (await memberAccess(db, p.orgId, p.actor.id))?.role === 'owner'
  }

  /** The scopes a role name or custom role id grants in this org; not_found when it does not exist here. */
  async function roleScopes(orgId: string, role: string): Promise<readonly Scope[]> {
    if (isBuiltinRole(role)) return BUILTIN_ROLES[role]
    const custom = await findCustomRole(db, orgId, role)
    if (!custom) throw new AppError('not_found', 'Role not found.')
    return (JSON.parse(custom.scopes) as string[]).filter(isScope)
  }

  function assertWithinCaller(p: Principal, scopes: readonly string[]): void {
    const extra = scopes.filter((s) => !p.scopes.includes(s))
    if (extra.length) throw new AppError('forbidden', 'You cannot grant scopes you do not hold.', { details: { scopes: extra } })
  }

  /** May `p` give `role` to someone? (exists here, within p's scopes, owner only by owners) */
  async function assertGrantable(p: Principal, role: string): Promise<void> {
    assertWithinCaller(p, await roleScopes(p.orgId, role))
    if (role === 'owner' && !(await isOwner(p))) throw new AppError('forbidden', 'Only an owner can grant the owner role.')
  }

  async function members(p: Principal) {
    const rows = await listMembers(db, p.orgId)
    const custom = new Map((await listCustomRoles(db, p.orgId)).map((r) => [r.id, r.name]))
    return rows.map((r) => ({ userId: r.id, email: r.email, displayName: r.display_name, role: r.role, roleName: custom.get(r.role) ?? r.role, mfaEnabled: r.mfa_enabled === 1, joinedAt: r.created_at }))
  }

  async function changeRole(p: Principal, userId: string, role: string, meta: RequestMeta) {
    deps.stepUp.require(p)
    const current = await findMembership(db, p.orgId, userId)
    if (!current) throw new AppError('not_found', 'Member not found.')
    await assertGrantable(p, role)
    if (current.role === role) return { userId, role }
    // Taking a role away also needs the power to give it.
    assertWithinCaller(p, resolveMembership(current).scopes)
    if (current.role === 'owner') {
      if (!(await isOwner(p))) throw new AppError('forbidden', 'Only an owner can change an owner\'s role.')
      if ((await countMembersWithRole(db, p.orgId, 'owner')) <= 1) throw new AppError('conflict', 'The organization must keep at least one owner.')
    }
    await updateMemberRole(db, p.orgId, userId, role, now())
    audit(p, meta, 'member.role_changed', { type: 'user', id: userId }, { fromRole: current.role, toRole: role })
    return { userId, role }
  }

  async function removeMember(p: Principal, userId: string, meta: RequestMeta) {
    deps.stepUp.require(p)
    const current = await findMembership(db, p.orgId, userId)
    if (!current) throw new AppError('not_found', 'Member not found.')
    assertWithinCaller(p, resolveMembership(current).scopes)
    if (current.role === 'owner') {
      if (!(await isOwner(p))) throw new AppError('forbidden', 'Only an owner can remove an owner.')
      if ((await countMembersWithRole(db, p.orgId, 'owner')) <= 1) throw new AppError('conflict', 'The organization must keep at least one owner.')
    }
    await deleteMembership(db, p.orgId, userId)
    // Its OAuth grants and refresh tokens in this org go now; its access tokens fail on their next request.
    await deps.tokenRevocation?.memberRemoved(p.orgId, userId)
    audit(p, meta, 'member.removed', { type: 'user', id: userId }, { role: current.role })
  }

  // --- custom roles ---------------------------------------------------------

  function toRoleView(r: { id: string; name: string; description: string; scopes: string; conditions: string | null; created_at: number; updated_at: number }) {
    return { id: r.id, name: r.name, description: r.description, builtin: false, scopes: JSON.parse(r.scopes) as string[], conditions: r.conditions ? JSON.parse(r.conditions) : null, createdAt: r.created_at, updatedAt: r.updated_at }
  }

  async function roles(p: Principal) {
    const builtin = Object.entries(BUILTIN_ROLES).map(([name, scopes]) => ({ id: name, name, description: '', builtin: true, scopes: [...scopes] as string[], conditions: null, createdAt: null, updatedAt: null }))
    return [...builtin, ...(await listCustomRoles(db, p.orgId)).map(toRoleView)]
  }

  function validScopes(scopes: string[]): Scope[] {
    const unknown = scopes.filter((s) => !isScope(s))
    if (unknown.length) throw new AppError('invalid_request', 'Unknown scopes.', { details: unknown.map((s) => ({ path: 'body/scopes', message: `unknown scope ${s}` })) })
    return [...new Set(scopes)] as Scope[]
  }

  /**
   * A role's ABAC conditions: checked (bad CIDR or window → 400 naming the field) and no wider than the
   * caller's own, so a restricted admin cannot mint an unrestricted role (left out → inherited).
   */
  function roleConditions(p: Principal, input: AccessConditions | null | undefined): AccessConditions | null {
    try {
      return narrowConditions(p.conditions, normalizeConditions(input))
    } catch (e) {
      if (e instanceof AppError && e.code === 'forbidden') throw new AppError('forbidden', 'A role cannot have wider access conditions than your own.', { details: e.details })
      throw e
    }
  }

  async function assertNameFree(orgId: string, name: string, except?: string) {
    if (isBuiltinRole(name)) throw new AppError('conflict', 'That name belongs to a built-in role.')
    const other = await findCustomRoleByName(db, orgId, name)
    if (other && other.id !== except) throw new AppError('conflict', 'A role with this name already exists.')
  }

  async function createRole(p: Principal, input: { name: string; description?: string; scopes: string[]; conditions?: AccessConditions | null }, meta: RequestMeta) {
    deps.stepUp.require(p)
    const scopes = validScopes(input.scopes)
    assertWithinCaller(p, scopes)
    const conditions = roleConditions(p, input.conditions)
    await assertNameFree(p.orgId, input.name)
    const at = now()
    const row = { id: newId('role', at), org_id: p.orgId, name: input.name, description: input.description ?? '', scopes: JSON.stringify(scopes), conditions: conditions ? JSON.stringify(conditions) : null, created_at: at, updated_at: at }
    await insertCustomRole(db, row)
    audit(p, meta, 'role.created', { type: 'role', id: row.id }, { name: row.name, scopes })
    return toRoleView(row)
  }

  async function updateRole(p: Principal, id: string, input: { name?: string; description?: string; scopes?: string[]; conditions?: AccessConditions | null }, meta: RequestMeta) {
    deps.stepUp.require(p)
    const existing = await findCustomRole(db, p.orgId, id)
    if (!existing) throw new AppError('not_found', 'Role not found.')
    // Editing a role changes what its members hold: the caller must hold both the old and the new scopes.
    assertWithinCaller(p, JSON.parse(existing.scopes))
    // ...and the role must be one it could have created: its current conditions no wider than the caller's.
    if (!conditionsWithin(existing.conditions ? JSON.parse(existing.conditions) : null, p.conditions)) {
      throw new AppError('forbidden', 'This role has wider access conditions than your own.')
    }
    const scopes = input.scopes ? validScopes(input.scopes) : undefined
    if (scopes) assertWithinCaller(p, scopes)
    const conditions = input.conditions !== undefined ? roleConditions(p, input.conditions) : undefined
    if (input.name !== undefined) await assertNameFree(p.orgId, input.name, id)
    const set = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(scopes ? { scopes: JSON.stringify(scopes) } : {}),
      ...(conditions !== undefined ? { conditions: conditions ? JSON.stringify(conditions) : null } : {}),
      updated_at: now(),
    }
    await updateCustomRole(db, p.orgId, id, set)
    audit(p, meta, 'role.updated', { type: 'role', id }, { scopesBefore: JSON.parse(existing.scopes), scopesAfter: scopes ?? JSON.parse(existing.scopes), conditionsChanged: input.conditions !== undefined })
    return toRoleView({ ...existing, ...set })
  }

  async function deleteRole(p: Principal, id: string, meta: RequestMeta) {
    deps.stepUp.require(p)
    const existing = await findCustomRole(db, p.orgId, id)
    if (!existing) throw new AppError('not_found', 'Role not found.')
    if ((await countMembersWithRole(db, p.orgId, id)) > 0) throw new AppError('conflict', 'Members still have this role: give them another role first.')
    await deleteCustomRole(db, p.orgId, id)
    audit(p, meta, 'role.deleted', { type: 'role', id }, { name: existing.name })
  }

  // --- sign-in policy -------------------------------------------------------

  async function policy(p: Principal) {
    const row = await findAuthPolicy(db, p.orgId)
    return { requireMfa: row?.require_mfa === 1, updatedAt: row?.updated_at ?? null }
  }

  async function setPolicy(p: Principal, input: { requireMfa: boolean }, meta: RequestMeta) {
    deps.stepUp.require(p)
    await upsertAuthPolicy(db, p.orgId, input.requireMfa, p.actor.id, now())
    audit(p, meta, 'auth_policy.updated', { type: 'org', id: p.orgId }, { requireMfa: input.requireMfa })
    return policy(p)
  }

  return { members, changeRole, removeMember, roles, createRole, updateRole, deleteRole, policy, setPolicy, assertGrantable, roleScopes }
}

export type MemberService = ReturnType<typeof createMemberService>
