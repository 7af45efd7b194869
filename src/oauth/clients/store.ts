import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../../storage/db.ts'
import type { OAuthClientsTable } from '../table.ts'

export async function insertClient(db: DbOrTrx, row: Insertable<OAuthClientsTable>): Promise<void> {
  await db.insertInto('oauth_clients').values(row).execute()
}

export function findClient(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('oauth_clients').selectAll()
    .where('org_id', '=', orgId).where('id', '=', id).where('deleted_at', 'is', null)
    .executeTakeFirst()
}

/**
 * The token endpoint knows only the client_id; the row carries its organization,
 * which then scopes everything the client does.
 */
export function findClientForProvider(db: DbOrTrx, id: string) {
  return db.selectFrom('oauth_clients').selectAll()
    .where('id', '=', id).where('deleted_at', 'is', null)
    .executeTakeFirst()
}

export function listClients(db: DbOrTrx, orgId: string, opts: { after?: string; limit: number; environments?: readonly ('live' | 'test')[] }) {
  let q = db.selectFrom('oauth_clients').selectAll()
    .where('org_id', '=', orgId).where('deleted_at', 'is', null)
  if (opts.environments) q = q.where('environment', 'in', [...opts.environments])
  if (opts.after) q = q.where('id', '>', opts.after)
  return q.orderBy('id', 'asc').limit(opts.limit).execute()
}

export async function markClientDeleted(db: DbOrTrx, orgId: string, id: string, at: number): Promise<boolean> {
  const r = await db.updateTable('oauth_clients').set({ deleted_at: at })
    .where('org_id', '=', orgId).where('id', '=', id).where('deleted_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function replaceClientSecret(db: DbOrTrx, orgId: string, id: string, hash: string, last4: string): Promise<boolean> {
  // The generation moves with the secret: access tokens minted under the old one stop working.
  const r = await db.updateTable('oauth_clients').set((eb) => ({ secret_hash: hash, secret_last4: last4, token_generation: eb('token_generation', '+', 1) }))
    .where('org_id', '=', orgId).where('id', '=', id).where('deleted_at', 'is', null).where('kind', '=', 'confidential')
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}
