import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { CustomRolesTable, InvitationsTable } from './table.ts'

/** Organization-scoped queries: every function takes orgId (tenant isolation). */

/** A member's role with what it resolves to: a custom role's scopes, and the org's MFA policy. */
export function findMembership(db: DbOrTrx, orgId: string, userId: string) {
  return db.selectFrom('memberships as m')
    .leftJoin('custom_roles as r', (j) => j.onRef('r.id', '=', 'm.role').onRef('r.org_id', '=', 'm.org_id'))
    .leftJoin('org_auth_policies as p', 'p.org_id', 'm.org_id')
    .select(['m.org_id', 'm.user_id', 'm.role', 'm.created_at', 'r.scopes as custom_scopes', 'r.conditions as custom_conditions', 'r.name as custom_name', 'p.require_mfa'])
    .where('m.org_id', '=', orgId).where('m.user_id', '=', userId)
    .executeTakeFirst()
}

export type MembershipWithRole = NonNullable<Awaited<ReturnType<typeof findMembership>>>

/** Organizations a user belongs to, oldest membership first (the default org at sign-in). */
export function listUserMemberships(db: DbOrTrx, userId: string) {
  return db.selectFrom('memberships as m').innerJoin('orgs as o', 'o.id', 'm.org_id')
    .select(['m.org_id', 'o.name as org_name', 'm.role', 'm.created_at'])
    .where('m.user_id', '=', userId).orderBy('m.created_at').orderBy('m.org_id').execute()
}

export async function insertMembership(db: DbOrTrx, orgId: string, userId: string, role: string, now: number): Promise<void> {
  await db.insertInto('memberships').values({ org_id: orgId, user_id: userId, role, created_at: now, updated_at: now }).execute()
}

export function listMembers(db: DbOrTrx, orgId: string) {
  return db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.display_name', 'u.mfa_enabled', 'm.role', 'm.created_at'])
    .where('m.org_id', '=', orgId).orderBy('m.created_at').execute()
}

export async function updateMemberRole(db: DbOrTrx, orgId: string, userId: string, role: string, now: number): Promise<boolean> {
  const r = await db.updateTable('memberships').set({ role, updated_at: now })
    .where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteMembership(db: DbOrTrx, orgId: string, userId: string): Promise<boolean> {
  const r = await db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

export async function countMembersWithRole(db: DbOrTrx, orgId: string, role: string): Promise<number> {
  const r = await db.selectFrom('memberships').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org_id', '=', orgId).where('role', '=', role).executeTakeFirstOrThrow()
  return Number(r.n)
}

// --- custom roles -----------------------------------------------------------

export function listCustomRoles(db: DbOrTrx, orgId: string) {
  return db.selectFrom('custom_roles').selectAll().where('org_id', '=', orgId).orderBy('name').execute()
}

export function findCustomRole(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('custom_roles').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export function findCustomRoleByName(db: DbOrTrx, orgId: string, name: string) {
  return db.selectFrom('custom_roles').select(['id']).where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst()
}

export async function insertCustomRole(db: DbOrTrx, row: Insertable<CustomRolesTable>): Promise<void> {
  await db.insertInto('custom_roles').values(row).execute()
}

export async function updateCustomRole(db: DbOrTrx, orgId: string, id: string, set: Partial<Pick<CustomRolesTable, 'name' | 'description' | 'scopes' | 'conditions' | 'updated_at'>>): Promise<boolean> {
  const r = await db.updateTable('custom_roles').set(set).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteCustomRole(db: DbOrTrx, orgId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('custom_roles').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

// --- invitations ------------------------------------------------------------

export async function insertInvitation(db: DbOrTrx, row: Insertable<InvitationsTable>): Promise<void> {
  await db.insertInto('invitations').values(row).execute()
}

export function listPendingInvitations(db: DbOrTrx, orgId: string, now: number) {
  return db.selectFrom('invitations').select(['id', 'email', 'role', 'invited_by', 'created_at', 'expires_at'])
    .where('org_id', '=', orgId).where('accepted_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', now)
    .orderBy('created_at').execute()
}

export function findInvitation(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('invitations').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

/** The accept path: the token hash is the only key the invitee has. */
export function findInvitationByTokenHash(db: DbOrTrx, tokenHash: string) {
  return db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
}

export async function markInvitation(db: DbOrTrx, orgId: string, id: string, set: { accepted_at: number; accepted_by: string } | { revoked_at: number }): Promise<boolean> {
  const r = await db.updateTable('invitations').set(set)
    .where('org_id', '=', orgId).where('id', '=', id).where('accepted_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

// --- sign-in policy ---------------------------------------------------------

export async function findAuthPolicy(db: DbOrTrx, orgId: string) {
  return db.selectFrom('org_auth_policies').selectAll().where('org_id', '=', orgId).executeTakeFirst()
}

export async function upsertAuthPolicy(db: DbOrTrx, orgId: string, requireMfa: boolean, by: string | null, now: number): Promise<void> {
  await db.insertInto('org_auth_policies').values({ org_id: orgId, require_mfa: requireMfa ? 1 : 0, updated_at: now, updated_by: by })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ require_mfa: requireMfa ? 1 : 0, updated_at: now, updated_by: by }))
    .execute()
}
