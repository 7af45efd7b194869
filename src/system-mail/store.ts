import type { Db, DbOrTrx } from '../storage/db.ts'
import type { SystemMailTable } from './table.ts'

/** The sending domain for system mail: the configured one, else the first domain of the first organization. */
export async function findSenderDomain(db: Db, name: string | undefined): Promise<{ orgId: string; name: string } | null> {
  const q = db.selectFrom('domains').innerJoin('orgs', 'orgs.id', 'domains.org_id').select(['domains.org_id as orgId', 'domains.name as name'])
  const row = name
    ? await q.where('domains.name', '=', name).orderBy('domains.created_at').orderBy('domains.id').executeTakeFirst()
    : await q.orderBy('orgs.created_at').orderBy('orgs.id').orderBy('domains.created_at').orderBy('domains.id').executeTakeFirst()
  return row ?? null
}

export async function countQueuedSince(db: Db, recipientHash: string, since: number): Promise<number> {
  const r = await db.selectFrom('system_mail').select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('recipient_hash', '=', recipientHash).where('outcome', '=', 'queued').where('created_at', '>=', since).executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function insertSystemMail(db: DbOrTrx, row: SystemMailTable): Promise<void> {
  await db.insertInto('system_mail').values(row).execute()
}

/** Newest first; `cursor` is the last id of the previous page. */
export function listSystemMail(db: Db, orgId: string, limit: number, cursor?: string) {
  // The message lives in the sender's organization; the row ties it to the organization it concerns.
  let q = db.selectFrom('system_mail').leftJoin('messages', 'messages.id', 'system_mail.message_id')
    .select(['system_mail.id', 'system_mail.kind', 'system_mail.outcome', 'system_mail.message_id', 'system_mail.created_at', 'messages.status as message_status'])
    .where('system_mail.org_id', '=', orgId)
  if (cursor) q = q.where('system_mail.id', '<', cursor)
  return q.orderBy('system_mail.id', 'desc').limit(limit + 1).execute()
}
