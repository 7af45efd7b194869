import type { Insertable, Updateable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { Environment } from '../core/principal.ts'
import type { ContactsTable } from './table.ts'

export async function insertContact(db: DbOrTrx, row: Insertable<ContactsTable>): Promise<void> {
  await db.insertInto('contacts').values(row).execute()
}

export function findContact(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('contacts').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

/** One contact per address per environment (access/sandbox.ts). */
export function findContactByEmailIndex(db: DbOrTrx, orgId: string, emailIndex: string, environment: Environment) {
  return db.selectFrom('contacts').selectAll().where('org_id', '=', orgId).where('environment', '=', environment).where('email_index', '=', emailIndex).executeTakeFirst()
}

/** Which of these blind indexes belong to contacts marked unsubscribed. */
export async function findUnsubscribedEmailIndexes(db: DbOrTrx, orgId: string, indexes: string[], environments: readonly Environment[]): Promise<Set<string>> {
  if (!indexes.length) return new Set()
  const rows = await db.selectFrom('contacts').select('email_index')
    .where('org_id', '=', orgId).where('environment', 'in', [...environments]).where('unsubscribed', '=', 1).where('email_index', 'in', indexes).execute()
  return new Set(rows.map((r) => r.email_index))
}

/** Newest first; `cursor` is the last id of the previous page. Fetches limit+1 to know if there is more. */
export function listContacts(db: DbOrTrx, orgId: string, opts: { limit: number; cursor?: string; emailIndex?: string; environments: readonly Environment[] }) {
  let q = db.selectFrom('contacts').selectAll().where('org_id', '=', orgId).where('environment', 'in', [...opts.environments])
  if (opts.cursor) q = q.where('id', '<', opts.cursor)
  if (opts.emailIndex) q = q.where('email_index', '=', opts.emailIndex)
  return q.orderBy('id', 'desc').limit(opts.limit + 1).execute()
}

export async function updateContact(db: DbOrTrx, orgId: string, id: string, set: Updateable<ContactsTable>): Promise<boolean> {
  const r = await db.updateTable('contacts').set(set).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteContact(db: DbOrTrx, orgId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('contacts').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}
