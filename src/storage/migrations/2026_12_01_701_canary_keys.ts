import type { Kysely } from 'kysely'

/** Canary (decoy) keys: ordinary api_keys rows without scopes, marked here (keys/canary.ts). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('canary_keys')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('canary_keys_org').on('canary_keys').columns(['org_id', 'key_id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('canary_keys').execute()
}
