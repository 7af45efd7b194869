import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('delivery_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reclaims', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('settled', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  // The claim scans ready jobs by due time.
  await db.schema.createIndex('delivery_jobs_ready').on('delivery_jobs').columns(['state', 'run_at']).execute()
  // Enqueueing the same message twice (a retried transaction) cannot create a second job.
  await db.schema.createIndex('delivery_jobs_message_domain').unique().on('delivery_jobs').columns(['message_id', 'domain']).execute()
  await db.schema.createIndex('delivery_jobs_org').on('delivery_jobs').columns(['org_id', 'message_id']).execute()

  await db.schema.createTable('delivery_domain_pauses')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('paused_until', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('delivery_domain_pauses').execute()
  await db.schema.dropTable('delivery_jobs').execute()
}
