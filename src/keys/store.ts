import type { DbOrTrx } from '../storage/db.ts'
import { isPostgres } from '../storage/dialects.ts'
import type { ApiKeysTable, ApiKeySecretsTable } from './table.ts'
import type { Insertable } from 'kysely'

export async function insertKey(db: DbOrTrx, key: Insertable<ApiKeysTable>, secret: Insertable<ApiKeySecretsTable>): Promise<void> {
  await db.insertInto('api_keys').values(key).execute()
  await db.insertInto('api_key_secrets').values(secret).execute()
}

/**
 * The auth hot path: one indexed read by the public lookup id. Deliberately not org-scoped: the
 * token is what identifies the org (and a leaked-token report has no org either).
 */
export function findSecretWithKey(db: DbOrTrx, lookupId: string) {
  return db.selectFrom('api_key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.key_id')
    .select([
      's.hash', 's.expires_at as secret_expires_at', 's.created_at as secret_created_at', 'k.id', 'k.org_id', 'k.environment', 'k.scopes', 'k.conditions',
      'k.expires_at', 'k.revoked_at', 'k.suspended_at', 'k.created_at', 'k.last_used_at',
    ])
    .where('s.lookup_id', '=', lookupId)
    .executeTakeFirst()
}

export function findKey(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

/** Same as findKey, row-locked on PostgreSQL (SQLite transactions are already serialized). */
export function findKeyForUpdate(trx: DbOrTrx, orgId: string, id: string) {
  const q = trx.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id)
  return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst()
}

/** Newest first; `before` is the id cursor (ids are time-ordered). */
export function listKeys(db: DbOrTrx, orgId: string, opts: { limit: number; before?: string; environments?: readonly ('live' | 'test')[] }) {
  let q = db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId)
    // Canary keys are listed apart (GET /v1/canary-keys, keys/canary.ts).
    .where('id', 'not in', db.selectFrom('canary_keys').select('key_id'))
  if (opts.environments) q = q.where('environment', 'in', [...opts.environments])
  if (opts.before) q = q.where('id', '<', opts.before)
  return q.orderBy('id', 'desc').limit(opts.limit).execute()
}

/** When the key's current secret was issued (what the org's maximum age counts from), per key. */
export async function currentSecretsIssuedAt(db: DbOrTrx, orgId: string, keyIds: string[]): Promise<Map<string, number>> {
  if (!keyIds.length) return new Map()
  const rows = await db.selectFrom('api_key_secrets').select(['key_id', 'created_at'])
    .where('org_id', '=', orgId).where('key_id', 'in', keyIds).where('expires_at', 'is', null).execute()
  return new Map(rows.map((r) => [r.key_id, r.created_at]))
}

/**
 * Rotation, inside the caller's transaction: a secret still in an earlier grace window dies now, the
 * current secret lives until `graceUntil`, the new one has no end. So a key has at most two live secrets.
 */
export async function rotateSecrets(trx: DbOrTrx, orgId: string, keyId: string, next: Insertable<ApiKeySecretsTable>, now: number, graceUntil: number): Promise<void> {
  await trx.deleteFrom('api_key_secrets')
    .where('org_id', '=', orgId).where('key_id', '=', keyId).where('expires_at', '<=', now).execute()
  await trx.updateTable('api_key_secrets').set({ expires_at: now })
    .where('org_id', '=', orgId).where('key_id', '=', keyId).where('expires_at', 'is not', null).execute()
  await trx.updateTable('api_key_secrets').set({ expires_at: graceUntil })
    .where('org_id', '=', orgId).where('key_id', '=', keyId).where('expires_at', 'is', null).execute()
  await trx.insertInto('api_key_secrets').values(next).execute()
}

/** Returns true when this call revoked the key (false: missing, other org, or already revoked). */
export async function revokeKey(db: DbOrTrx, orgId: string, id: string, at: number, reason: string, by: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ revoked_at: at, revoked_reason: reason, revoked_by: by })
    .where('org_id', '=', orgId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

/** Monitoring's automatic response: the key answers 403 `key_suspended` until reinstated. Live keys only. */
export async function suspendKey(db: DbOrTrx, orgId: string, id: string, at: number, reason: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ suspended_at: at, suspended_reason: reason })
    .where('org_id', '=', orgId).where('id', '=', id).where('suspended_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export async function reinstateKey(db: DbOrTrx, orgId: string, id: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ suspended_at: null, suspended_reason: null })
    .where('org_id', '=', orgId).where('id', '=', id).where('suspended_at', 'is not', null).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export async function touchKey(db: DbOrTrx, orgId: string, id: string, at: number, ip: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip })
    .where('org_id', '=', orgId).where('id', '=', id).execute()
}
