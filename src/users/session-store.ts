import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { SessionsTable } from './table.ts'

export async function insertSession(db: DbOrTrx, row: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(row).execute()
}

/** The cookie hot path: one indexed read joining the user. */
export function findSessionByTokenHash(db: DbOrTrx, tokenHash: string) {
  return db.selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('s')
    .select(['u.email', 'u.display_name', 'u.mfa_enabled', 'u.email_verified_at', 'u.disabled_at', 'u.password_change_required'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst()
}

export type SessionWithUser = NonNullable<Awaited<ReturnType<typeof findSessionByTokenHash>>>

export async function updateSession(db: DbOrTrx, userId: string, id: string, set: Partial<Omit<SessionsTable, 'id' | 'user_id'>>): Promise<boolean> {
  const r = await db.updateTable('sessions').set(set)
    .where('user_id', '=', userId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export function listLiveSessions(db: DbOrTrx, userId: string, notBefore: { createdAfter: number; seenAfter: number }) {
  return db.selectFrom('sessions')
    .select(['id', 'org_id', 'created_at', 'last_seen_at', 'authenticated_at', 'mfa_verified_at', 'ip', 'user_agent'])
    .where('user_id', '=', userId).where('revoked_at', 'is', null)
    .where('created_at', '>', notBefore.createdAfter).where('last_seen_at', '>', notBefore.seenAfter)
    .orderBy('last_seen_at', 'desc').execute()
}

export async function revokeSessions(db: DbOrTrx, userId: string, at: number, opts: { only?: string; except?: string } = {}): Promise<number> {
  let q = db.updateTable('sessions').set({ revoked_at: at, challenge: null })
    .where('user_id', '=', userId).where('revoked_at', 'is', null)
  if (opts.only) q = q.where('id', '=', opts.only)
  if (opts.except) q = q.where('id', '!=', opts.except)
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows)
}

/** Housekeeping: drop sessions that ended long ago (kept a while for the "active sessions" audit trail). */
export async function pruneSessions(db: DbOrTrx, before: number): Promise<void> {
  await db.deleteFrom('sessions').where((eb) => eb.or([eb('revoked_at', '<', before), eb('last_seen_at', '<', before)])).execute()
}

/** Clears a pending WebAuthn challenge; false when another request consumed it first. */
export async function consumeChallenge(db: DbOrTrx, userId: string, id: string, challenge: string): Promise<boolean> {
  const r = await db.updateTable('sessions').set({ challenge: null, challenge_purpose: null, challenge_expires_at: null })
    .where('user_id', '=', userId).where('id', '=', id).where('challenge', '=', challenge).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}
