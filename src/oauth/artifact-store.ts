import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { OAuthArtifactsTable } from './table.ts'

// OAuth artifacts belong to the installation, not to one organization: oidc-provider looks
// them up by token value alone. Tenant isolation happens on the tokens' org claim instead.

export function artifactRow(
  model: string, idHash: string, payload: string,
  idx: Pick<OAuthArtifactsTable, 'grant_hash' | 'uid_hash' | 'user_code_hash' | 'expires_at'> & Partial<Pick<OAuthArtifactsTable, 'client_id' | 'account_hash'>>,
): Insertable<OAuthArtifactsTable> {
  return { model, id_hash: idHash, payload, client_id: null, account_hash: null, ...idx, consumed_at: null }
}

export async function upsertArtifact(db: DbOrTrx, row: Insertable<OAuthArtifactsTable>): Promise<void> {
  const { model: _m, id_hash: _i, ...rest } = row
  await db.insertInto('oauth_artifacts').values(row)
    .onConflict((oc) => oc.columns(['model', 'id_hash']).doUpdateSet(rest))
    .execute()
}

const live = (now: number) => (eb: any) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])

export function findArtifact(db: DbOrTrx, model: string, idHash: string, now: number) {
  return db.selectFrom('oauth_artifacts').selectAll()
    .where('model', '=', model).where('id_hash', '=', idHash).where(live(now))
    .executeTakeFirst()
}

export function findArtifactBy(db: DbOrTrx, model: string, column: 'uid_hash' | 'user_code_hash', value: string, now: number) {
  return db.selectFrom('oauth_artifacts').selectAll()
    .where('model', '=', model).where(column, '=', value).where(live(now))
    .executeTakeFirst()
}

/** True when this call consumed it; false when it was already consumed (or is gone). */
export async function markConsumed(db: DbOrTrx, model: string, idHash: string, at: number): Promise<boolean> {
  const r = await db.updateTable('oauth_artifacts').set({ consumed_at: at })
    .where('model', '=', model).where('id_hash', '=', idHash).where('consumed_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteArtifact(db: DbOrTrx, model: string, idHash: string): Promise<void> {
  await db.deleteFrom('oauth_artifacts').where('model', '=', model).where('id_hash', '=', idHash).execute()
}

/** model null: every artifact of the grant, whatever its kind. */
export async function deleteArtifactsOfGrant(db: DbOrTrx, model: string | null, grantHash: string): Promise<void> {
  let q = db.deleteFrom('oauth_artifacts').where('grant_hash', '=', grantHash)
  if (model) q = q.where('model', '=', model)
  await q.execute()
}

/**
 * Revocation: every artifact (grants, refresh tokens, codes, device codes) of a client, or of an account
 * (optionally only with the given clients: one organization's). Returns how many went.
 */
export async function deleteArtifactsOf(db: DbOrTrx, by: { clientId: string } | { accountHash: string; clientIds?: string[] }): Promise<number> {
  let q = db.deleteFrom('oauth_artifacts')
  if ('clientId' in by) q = q.where('client_id', '=', by.clientId)
  else {
    q = q.where('account_hash', '=', by.accountHash)
    if (by.clientIds) {
      if (by.clientIds.length === 0) return 0
      q = q.where('client_id', 'in', by.clientIds)
    }
  }
  return Number((await q.executeTakeFirst()).numDeletedRows)
}

export async function purgeExpiredArtifacts(db: DbOrTrx, now: number): Promise<number> {
  const r = await db.deleteFrom('oauth_artifacts').where('expires_at', '<=', now).executeTakeFirst()
  return Number(r.numDeletedRows)
}
