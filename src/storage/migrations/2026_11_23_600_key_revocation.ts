import type { Kysely } from 'kysely'

/** Why and by whom a key was revoked (`manual`, `leaked`), shown in the key list and the audit trail. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('revoked_reason', 'text').execute()
  await db.schema.alterTable('api_keys').addColumn('revoked_by', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('revoked_by').execute()
  await db.schema.alterTable('api_keys').dropColumn('revoked_reason').execute()
}
