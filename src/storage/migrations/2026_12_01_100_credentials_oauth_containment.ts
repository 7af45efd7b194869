import type { Kysely } from 'kysely'

/**
 * OAuth clients carry the access conditions inherited from their creator (IP ranges, time windows,
 * environments; JSON, null = none) and a token generation: rotating the secret bumps it, and access
 * tokens minted under an older generation are refused. Artifacts get two lookup columns so every
 * refresh token and grant of a client or of a user can be found and deleted (client deletion, secret
 * rotation, membership removal): the client id (not secret) and an HMAC of the account id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').addColumn('conditions', 'text').execute()
  await db.schema.alterTable('oauth_clients').addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.alterTable('oauth_artifacts').addColumn('client_id', 'text').execute()
  await db.schema.alterTable('oauth_artifacts').addColumn('account_hash', 'text').execute()
  await db.schema.createIndex('oauth_artifacts_client').on('oauth_artifacts').column('client_id').execute()
  await db.schema.createIndex('oauth_artifacts_account').on('oauth_artifacts').column('account_hash').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_artifacts_account').execute()
  await db.schema.dropIndex('oauth_artifacts_client').execute()
  await db.schema.alterTable('oauth_artifacts').dropColumn('account_hash').execute()
  await db.schema.alterTable('oauth_artifacts').dropColumn('client_id').execute()
  await db.schema.alterTable('oauth_clients').dropColumn('token_generation').execute()
  await db.schema.alterTable('oauth_clients').dropColumn('conditions').execute()
}
