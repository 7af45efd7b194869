import type { Kysely } from 'kysely'

/**
 * One row per system mail (verification, invitation, password reset, alert): which organization it
 * concerns (admins list it there), the keyed hash of the recipient (per-recipient rate limit without
 * storing the address in clear) and the message it became (null when it was dropped).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('system_mail')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('recipient_hash', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('system_mail_recipient').on('system_mail').columns(['recipient_hash', 'created_at']).execute()
  await db.schema.createIndex('system_mail_org').on('system_mail').columns(['org_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('system_mail').execute()
}
