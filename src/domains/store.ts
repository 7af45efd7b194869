import type { Insertable, Updateable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { DomainsTable } from './table.ts'

export async function insertDomain(db: DbOrTrx, row: Insertable<DomainsTable>): Promise<void> {
  await db.insertInto('domains').values(row).execute()
}

export function findDomain(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('domains').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export function findDomainByName(db: DbOrTrx, orgId: string, name: string) {
  return db.selectFrom('domains').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst()
}

export function listDomains(db: DbOrTrx, orgId: string) {
  return db.selectFrom('domains').selectAll().where('org_id', '=', orgId).orderBy('id', 'asc').limit(500).execute()
}

export async function updateDomain(db: DbOrTrx, orgId: string, id: string, set: Updateable<DomainsTable>): Promise<void> {
  await db.updateTable('domains').set(set).where('org_id', '=', orgId).where('id', '=', id).execute()
}

export async function deleteDomain(db: DbOrTrx, orgId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('domains').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) > 0
}

/**
 * The one cross-organization query: other organizations' verified claims on `name` or a subdomain
 * of it, re-checked when this organization proves the name (the DNS owner wins). `name` is a
 * normalized domain name ([a-z0-9.-] only), so it carries no LIKE wildcard.
 */
export function findVerifiedClaimsByOthers(db: DbOrTrx, orgId: string, name: string) {
  return db.selectFrom('domains').selectAll()
    .where('org_id', '!=', orgId).where('status', '=', 'verified')
    .where((eb) => eb.or([eb('name', '=', name), eb('name', 'like', `%.${name}`)]))
    .orderBy('id', 'asc').limit(100).execute()
}
