import type { DbOrTrx } from '../storage/db.ts'
import type { ApiKeysTable, ApiKeySecretsTable } from './table.ts'
import type { Insertable } from 'kysely'

export async function insertKey(db: DbOrTrx, key: Insertable<ApiKeysTable>, secret: Insertable<ApiKeySecretsTable>): Promise<void> {
  await db.insertInto('api_keys').values(key).execute()
  await db.insertInto('api_key_secrets').values(secret).execute()
}

/** The auth hot path: one indexed read by the public lookup id. */
export function findSecretWithKey(db: DbOrTrx, lookupId: string) {
  return db.selectFrom('api_key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.key_id')
    .select([
      's.hash', 's.expires_at as secret_expires_at', 'k.id', 'k.org_id', 'k.environment', 'k.scopes', 'k.conditions',
      'k.expires_at', 'k.revoked_at', 'k.suspended_at', 'k.created_at', 'k.last_used_at',
    ])
    .where('s.lookup_id', '=', lookupId)
    .executeTakeFirst()
}

export function findKey(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export async function touchKey(db: DbOrTrx, orgId: string, id: string, at: number, ip: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip })
    .where('org_id', '=', orgId).where('id', '=', id).execute()
}
