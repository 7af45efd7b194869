import type { Kysely } from 'kysely'

/** Legal holds (legal-hold/): while a hold is active, retention purges and erasure skip what it covers. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('legal_holds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('message_ids', 'text')
    .addColumn('tag', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('released_at', 'bigint')
    .addColumn('released_by', 'text')
    .execute()
  await db.schema.createIndex('legal_holds_org_active').on('legal_holds').columns(['org_id', 'released_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('legal_holds').execute()
}
