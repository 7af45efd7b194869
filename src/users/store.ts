import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { UsersTable, UserPasskeysTable } from './table.ts'

/**
 * Users are global (a person may belong to several organizations), so these
 * queries are keyed by user id; everything organization-scoped lives in
 * membership-store.ts and always takes orgId.
 */
export const normalizeEmail = (email: string) => email.trim().toLowerCase()

export async function insertUser(db: DbOrTrx, user: Insertable<UsersTable>): Promise<void> {
  await db.insertInto('users').values(user).execute()
}

export function findUserByEmail(db: DbOrTrx, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst()
}

export function findUser(db: DbOrTrx, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function updateUser(db: DbOrTrx, id: string, set: Partial<Pick<UsersTable, 'display_name' | 'password_hash' | 'email_verified_at' | 'mfa_enabled' | 'updated_at' | 'disabled_at' | 'one_time_password_used_at'>> & { password_change_required?: number }): Promise<void> {
  await db.updateTable('users').set(set).where('id', '=', id).execute()
}

/** Marks a one-time password used; false when it already was (a parallel sign-in with it got there first). */
export async function spendOneTimePassword(db: DbOrTrx, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('users').set({ one_time_password_used_at: now })
    .where('id', '=', id).where('password_change_required', '=', 1).where('one_time_password_used_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

// --- TOTP -------------------------------------------------------------------

export function findTotp(db: DbOrTrx, userId: string) {
  return db.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst()
}

/** Replaces any unconfirmed secret; a confirmed one must be removed first. */
export async function upsertPendingTotp(db: DbOrTrx, userId: string, secret: string, now: number): Promise<void> {
  await db.deleteFrom('user_totp').where('user_id', '=', userId).where('confirmed_at', 'is', null).execute()
  await db.insertInto('user_totp').values({ user_id: userId, secret, confirmed_at: null, last_time_step: null, created_at: now }).execute()
}

/** Moves the replay watermark forward only; false when another request used this step first. */
export async function advanceTotpStep(db: DbOrTrx, userId: string, timeStep: number, confirmAt?: number): Promise<boolean> {
  const r = await db.updateTable('user_totp')
    .set({ last_time_step: timeStep, ...(confirmAt !== undefined ? { confirmed_at: confirmAt } : {}) })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', timeStep)]))
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteTotp(db: DbOrTrx, userId: string): Promise<void> {
  await db.deleteFrom('user_totp').where('user_id', '=', userId).execute()
}

// --- passkeys ---------------------------------------------------------------

export function listPasskeys(db: DbOrTrx, userId: string) {
  return db.selectFrom('user_passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()
}

export function findPasskey(db: DbOrTrx, userId: string, id: string) {
  return db.selectFrom('user_passkeys').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst()
}

export async function insertPasskey(db: DbOrTrx, row: Insertable<UserPasskeysTable>): Promise<void> {
  await db.insertInto('user_passkeys').values(row).execute()
}

export async function touchPasskey(db: DbOrTrx, userId: string, id: string, counter: number, at: number): Promise<void> {
  await db.updateTable('user_passkeys').set({ counter, last_used_at: at }).where('user_id', '=', userId).where('id', '=', id).execute()
}

export async function deletePasskey(db: DbOrTrx, userId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('user_passkeys').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

// --- recovery codes ---------------------------------------------------------

export function unusedRecoveryCodes(db: DbOrTrx, userId: string) {
  return db.selectFrom('user_recovery_codes').select(['id', 'code_hash']).where('user_id', '=', userId).where('used_at', 'is', null).execute()
}

export async function replaceRecoveryCodes(db: DbOrTrx, userId: string, rows: { id: string; code_hash: string }[], now: number): Promise<void> {
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute()
  if (rows.length) await db.insertInto('user_recovery_codes').values(rows.map((r) => ({ ...r, user_id: userId, created_at: now, used_at: null }))).execute()
}

/** Marks a code used; false when a parallel request spent it first. */
export async function spendRecoveryCode(db: DbOrTrx, userId: string, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('user_recovery_codes').set({ used_at: now })
    .where('user_id', '=', userId).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteAllFactors(db: DbOrTrx, userId: string): Promise<void> {
  await db.deleteFrom('user_totp').where('user_id', '=', userId).execute()
  await db.deleteFrom('user_passkeys').where('user_id', '=', userId).execute()
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute()
}

// --- emailed tokens ---------------------------------------------------------

export async function insertUserToken(db: DbOrTrx, row: { token_hash: string; user_id: string; purpose: 'verify_email'; created_at: number; expires_at: number }): Promise<void> {
  await db.insertInto('user_tokens').values({ ...row, used_at: null }).execute()
}

/** Spends a token atomically; returns its user when it was valid and unused. */
export async function spendUserToken(db: DbOrTrx, tokenHash: string, purpose: 'verify_email', now: number): Promise<string | null> {
  const row = await db.selectFrom('user_tokens').select(['user_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', tokenHash).where('purpose', '=', purpose).executeTakeFirst()
  if (!row || row.used_at !== null || row.expires_at <= now) return null
  const r = await db.updateTable('user_tokens').set({ used_at: now })
    .where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1 ? row.user_id : null
}
