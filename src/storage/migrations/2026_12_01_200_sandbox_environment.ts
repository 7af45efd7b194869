import type { Kysely } from 'kysely'

/**
 * The sandbox seal (access/sandbox.ts): suppressions, contacts and webhook endpoints carry the
 * environment of the credential that created them (existing rows were created by live or test
 * credentials alike and cannot be told apart: they become live, the side that must keep working).
 * Uniqueness is per environment, so a sandbox copy never collides with (or shadows) a live one.
 * Idempotency keys are keyed by (org, environment, key): a key used with a test credential never
 * replays for a live send. They live 24 h, so the old rows are carried over as live.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['suppressions', 'contacts', 'webhook_endpoints']) {
    await db.schema.alterTable(table).addColumn('environment', 'text', (c) => c.notNull().defaultTo('live')).execute()
  }
  await db.schema.dropIndex('suppressions_org_address').execute()
  await db.schema.createIndex('suppressions_org_env_address').on('suppressions').columns(['org_id', 'environment', 'address_index']).unique().execute()
  await db.schema.dropIndex('contacts_org_email').execute()
  await db.schema.createIndex('contacts_org_env_email').on('contacts').columns(['org_id', 'environment', 'email_index']).unique().execute()

  await db.schema.alterTable('idempotency_keys').renameTo('idempotency_keys_v1').execute()
  await db.schema.createTable('idempotency_keys')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_env_pk', ['org_id', 'environment', 'key'])
    .execute()
  await db.insertInto('idempotency_keys')
    .columns(['org_id', 'environment', 'key', 'request_hash', 'status_code', 'response', 'created_at', 'expires_at'])
    .expression((eb) => eb.selectFrom('idempotency_keys_v1').select((s) => [
      'org_id', s.val('live').as('environment'), 'key', 'request_hash', 'status_code', 'response', 'created_at', 'expires_at',
    ]))
    .execute()
  await db.schema.dropTable('idempotency_keys_v1').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute()
  await db.schema.createTable('idempotency_keys')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['org_id', 'key'])
    .execute()
  await db.schema.dropIndex('contacts_org_env_email').execute()
  await db.schema.createIndex('contacts_org_email').unique().on('contacts').columns(['org_id', 'email_index']).execute()
  await db.schema.dropIndex('suppressions_org_env_address').execute()
  await db.schema.createIndex('suppressions_org_address').on('suppressions').columns(['org_id', 'address_index']).unique().execute()
  for (const table of ['suppressions', 'contacts', 'webhook_endpoints']) await db.schema.alterTable(table).dropColumn('environment').execute()
}
