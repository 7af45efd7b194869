import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { CryptoDeksTable } from './table.ts'

/** Store functions always name the owner (organization, subject): there is no unscoped key read. */
export function findDek(db: DbOrTrx, orgId: string, subjectId: string, version: number) {
  return db.selectFrom('crypto_deks').selectAll()
    .where('org_id', '=', orgId).where('subject_id', '=', subjectId).where('version', '=', version)
    .executeTakeFirst()
}

export function findCurrentDek(db: DbOrTrx, orgId: string, subjectId: string) {
  return db.selectFrom('crypto_deks').selectAll()
    .where('org_id', '=', orgId).where('subject_id', '=', subjectId).where('state', '=', 'current')
    .orderBy('version', 'desc').limit(1)
    .executeTakeFirst()
}

export function listDeks(db: DbOrTrx, orgId: string, subjectId: string) {
  return db.selectFrom('crypto_deks').selectAll()
    .where('org_id', '=', orgId).where('subject_id', '=', subjectId)
    .orderBy('version', 'asc').execute()
}

export async function insertDek(db: DbOrTrx, row: Insertable<CryptoDeksTable>): Promise<void> {
  await db.insertInto('crypto_deks').values(row).execute()
}

export async function retireDek(db: DbOrTrx, orgId: string, subjectId: string, version: number, at: number): Promise<void> {
  await db.updateTable('crypto_deks').set({ state: 'retired', retired_at: at })
    .where('org_id', '=', orgId).where('subject_id', '=', subjectId).where('version', '=', version).execute()
}

export async function deleteDek(db: DbOrTrx, orgId: string, subjectId: string, version: number): Promise<void> {
  await db.deleteFrom('crypto_deks')
    .where('org_id', '=', orgId).where('subject_id', '=', subjectId).where('version', '=', version).execute()
}

/** Crypto-shredding: every key of one subject. */
export async function deleteSubjectDeks(db: DbOrTrx, orgId: string, subjectId: string): Promise<number> {
  if (!subjectId) throw new Error('deleteSubjectDeks needs a subject id (refusing to delete organization keys)')
  const r = await db.deleteFrom('crypto_deks').where('org_id', '=', orgId).where('subject_id', '=', subjectId).executeTakeFirst()
  return Number(r.numDeletedRows)
}

// KEK rotation works across all owners by design (it never reads a plaintext row).
export async function countDeksByKek(db: DbOrTrx): Promise<Map<string, number>> {
  const rows = await db.selectFrom('crypto_deks').select(['kek_version', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('kek_version').execute()
  return new Map(rows.map((r) => [r.kek_version, Number(r.n)]))
}

export function listDeksNotWrappedBy(db: DbOrTrx, kekVersion: string, afterId: string, limit: number) {
  return db.selectFrom('crypto_deks').selectAll()
    .where('kek_version', '!=', kekVersion).where('id', '>', afterId)
    .orderBy('id', 'asc').limit(limit).execute()
}

export async function rewrapDekRow(db: DbOrTrx, id: string, fromKek: string, toKek: string, wrapped: string, at: number): Promise<boolean> {
  const r = await db.updateTable('crypto_deks').set({ kek_version: toKek, wrapped, rewrapped_at: at })
    .where('id', '=', id).where('kek_version', '=', fromKek).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Organizations that have an organization-level key (DEK rotation `--all`), excluding the blind-index owner. */
export async function listOrgKeyOwners(db: DbOrTrx): Promise<string[]> {
  const rows = await db.selectFrom('crypto_deks').select('org_id').distinct()
    .where('subject_id', '=', '').where('org_id', '!=', '*').orderBy('org_id').execute()
  return rows.map((r) => r.org_id)
}
