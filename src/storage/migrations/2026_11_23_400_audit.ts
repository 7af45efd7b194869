import { sql, type Kysely } from 'kysely'
import { isPostgres } from '../dialects.ts'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('org_id', 'text')
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('method', 'text')
    .addColumn('route', 'text')
    .addColumn('path', 'text')
    .addColumn('status', 'integer')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('auth_failure', 'text')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('outcome', 'text')
    .addColumn('details', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('audit_events_chain_seq').unique().on('audit_events').columns(['chain_id', 'seq']).execute()
  await db.schema.createIndex('audit_events_org_time').on('audit_events').columns(['org_id', 'occurred_at']).execute()

  await db.schema.createTable('audit_chain_heads')
    .addColumn('chain_id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('events_since_checkpoint', 'integer', (c) => c.notNull())
    .addColumn('last_checkpoint_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema.createTable('audit_checkpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('details', 'text')
    .execute()
  await db.schema.createIndex('audit_checkpoints_chain').on('audit_checkpoints').columns(['chain_id', 'seq']).execute()

  await db.schema.createTable('retention_policies')
    .addColumn('org_id', 'text', (c) => c.primaryKey())
    .addColumn('preset', 'text')
    .addColumn('days', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute()

  if (isPostgres(db)) {
    // Append-only: UPDATE, DELETE and TRUNCATE are refused, except DELETE inside the
    // retention purge, which sets the transaction-local `sealpost.audit_purge` to 'on'.
    // This stops the application and careless operators; a superuser can still bypass
    // triggers, which is why the hash chain and signed checkpoints exist.
    await sql`create or replace function sealpost_audit_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and coalesce(current_setting('sealpost.audit_purge', true), '') = 'on' then
          return old;
        end if;
        raise exception 'audit tables are append-only (% refused on %)', tg_op, tg_table_name
          using errcode = 'insufficient_privilege';
      end $$`.execute(db)
    for (const table of ['audit_events', 'audit_checkpoints']) {
      await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${sql.table(table)}
        for each row execute function sealpost_audit_append_only()`.execute(db)
      await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
        for each statement execute function sealpost_audit_append_only()`.execute(db)
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retention_policies').execute()
  await db.schema.dropTable('audit_checkpoints').execute()
  await db.schema.dropTable('audit_chain_heads').execute()
  await db.schema.dropTable('audit_events').execute()
  if (isPostgres(db)) await sql`drop function if exists sealpost_audit_append_only()`.execute(db)
}
