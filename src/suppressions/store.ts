import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { Environment } from '../core/principal.ts'
import type { SuppressionsTable } from './table.ts'

/** Inserts unless the address is already suppressed in that environment (first reason wins). */
export async function insertSuppression(db: DbOrTrx, row: Insertable<SuppressionsTable>): Promise<boolean> {
  const r = await db.insertInto('suppressions').values(row)
    .onConflict((oc) => oc.columns(['org_id', 'environment', 'address_index']).doNothing()).executeTakeFirst()
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0
}

export async function findSuppressedIndexes(db: DbOrTrx, orgId: string, indexes: string[], environments: readonly Environment[]): Promise<Set<string>> {
  if (!indexes.length) return new Set()
  const rows = await db.selectFrom('suppressions').select('address_index')
    .where('org_id', '=', orgId).where('environment', 'in', [...environments]).where('address_index', 'in', indexes).execute()
  return new Set(rows.map((r) => r.address_index))
}

export function listSuppressions(db: DbOrTrx, orgId: string, environments: readonly Environment[], limit: number, cursor?: string) {
  let q = db.selectFrom('suppressions').selectAll().where('org_id', '=', orgId).where('environment', 'in', [...environments])
  if (cursor) q = q.where('id', '<', cursor)
  return q.orderBy('id', 'desc').limit(limit + 1).execute()
}

export async function deleteSuppression(db: DbOrTrx, orgId: string, environments: readonly Environment[], id: string): Promise<boolean> {
  const r = await db.deleteFrom('suppressions').where('org_id', '=', orgId).where('environment', 'in', [...environments]).where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) > 0
}
