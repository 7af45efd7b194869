import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'

/**
 * Proven domains: a per-organization ownership token each domain publishes as
 * `_sealpost-verification.<name> TXT "sealpost-verify=<token>"`, and an index on the
 * name alone, for the cross-organization look-ups (another org's claim on the same name).
 * Existing domains get a token now; their current status stands until their next check.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('domains').addColumn('verification_token', 'text').execute()
  const rows = await db.selectFrom('domains').select('id').execute()
  for (const r of rows) {
    await db.updateTable('domains').set({ verification_token: randomBytes(16).toString('hex') }).where('id', '=', r.id).execute()
  }
  await db.schema.createIndex('domains_name').on('domains').column('name').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('domains_name').execute()
  await db.schema.alterTable('domains').dropColumn('verification_token').execute()
}
