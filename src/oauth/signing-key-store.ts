import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { OAuthSigningKeysTable } from './table.ts'

// Signing keys belong to the installation (one issuer), not to an organization.

export function listSigningKeys(db: DbOrTrx) {
  return db.selectFrom('oauth_signing_keys').selectAll().orderBy('created_at', 'asc').execute()
}

export async function insertSigningKey(db: DbOrTrx, row: Insertable<OAuthSigningKeysTable>): Promise<void> {
  await db.insertInto('oauth_signing_keys').values(row).execute()
}

export async function setSigningKeyState(db: DbOrTrx, kid: string, from: 'next' | 'active', set: Partial<Insertable<OAuthSigningKeysTable>>): Promise<boolean> {
  const r = await db.updateTable('oauth_signing_keys').set(set).where('kid', '=', kid).where('state', '=', from).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteRemovableKeys(db: DbOrTrx, now: number): Promise<void> {
  await db.deleteFrom('oauth_signing_keys').where('state', '=', 'retired').where('remove_after', '<=', now).execute()
}
