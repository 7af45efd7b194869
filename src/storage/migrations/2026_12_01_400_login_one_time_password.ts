import type { Kysely } from 'kysely'

/**
 * One-time passwords (the owner's at init, `user create-owner` without a password):
 * `password_change_required` keeps the account's sessions to changing the password
 * and enrolling MFA; `one_time_password_used_at` is set by the first sign-in with it,
 * after which the same password no longer signs in.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('password_change_required', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.alterTable('users').addColumn('one_time_password_used_at', 'bigint').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('one_time_password_used_at').execute()
  await db.schema.alterTable('users').dropColumn('password_change_required').execute()
}
