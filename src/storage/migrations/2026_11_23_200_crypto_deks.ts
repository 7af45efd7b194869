import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('crypto_deks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('kek_version', 'text', (c) => c.notNull())
    .addColumn('wrapped', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('rewrapped_at', 'bigint')
    .execute()
  // Two processes creating an organization's first key race on this, and one re-reads.
  await db.schema.createIndex('crypto_deks_owner_version').unique().on('crypto_deks').columns(['org_id', 'subject_id', 'version']).execute()
  await db.schema.createIndex('crypto_deks_kek_version').on('crypto_deks').columns(['kek_version', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('crypto_deks').execute()
}
