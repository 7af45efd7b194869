import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { LegalHoldRow, LegalHoldsTable } from './table.ts'

export function activeHolds(db: DbOrTrx, orgId: string): Promise<LegalHoldRow[]> {
  return db.selectFrom('legal_holds').selectAll().where('org_id', '=', orgId).where('released_at', 'is', null).orderBy('id').execute()
}

/** What an organization's active holds keep from message retention. `all`: nothing may be purged. */
export interface HeldMessages { all: boolean; ids: string[]; tags: string[] }

export function heldMessages(holds: LegalHoldRow[]): HeldMessages {
  const out: HeldMessages = { all: false, ids: [], tags: [] }
  for (const h of holds) {
    if (h.scope === 'organization') out.all = true
    if (h.scope !== 'messages') continue
    if (h.tag) out.tags.push(h.tag)
    if (h.message_ids) out.ids.push(...(JSON.parse(h.message_ids) as string[]))
  }
  out.ids = [...new Set(out.ids)]
  out.tags = [...new Set(out.tags)]
  return out
}

export async function orgOnHold(db: DbOrTrx, orgId: string): Promise<boolean> {
  const r = await db.selectFrom('legal_holds').select('id').where('org_id', '=', orgId).where('released_at', 'is', null)
    .where('scope', '=', 'organization').limit(1).executeTakeFirst()
  return r !== undefined
}

export async function contactOnHold(db: DbOrTrx, orgId: string, contactId: string): Promise<boolean> {
  const r = await db.selectFrom('legal_holds').select('id').where('org_id', '=', orgId).where('released_at', 'is', null)
    .where((eb) => eb.or([eb('scope', '=', 'organization'), eb.and([eb('scope', '=', 'contact'), eb('contact_id', '=', contactId)])]))
    .limit(1).executeTakeFirst()
  return r !== undefined
}

export async function insertHold(db: DbOrTrx, row: Insertable<LegalHoldsTable>): Promise<void> {
  await db.insertInto('legal_holds').values(row).execute()
}

export function findHold(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('legal_holds').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export function listHolds(db: DbOrTrx, orgId: string, includeReleased: boolean) {
  return db.selectFrom('legal_holds').selectAll().where('org_id', '=', orgId)
    .$if(!includeReleased, (q) => q.where('released_at', 'is', null)).orderBy('id', 'desc').limit(500).execute()
}

/** Conditional on still being active: a second release is a no-op the caller reports as 409. */
export async function releaseHold(db: DbOrTrx, orgId: string, id: string, by: string, now: number): Promise<boolean> {
  const r = await db.updateTable('legal_holds').set({ released_at: now, released_by: by })
    .where('org_id', '=', orgId).where('id', '=', id).where('released_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}
