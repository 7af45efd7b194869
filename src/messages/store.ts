import { sql, type Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { MessagesTable, MessageEventsTable, MessageStatus } from './table.ts'

export async function insertMessages(db: DbOrTrx, rows: Insertable<MessagesTable>[]): Promise<void> {
  if (rows.length) await db.insertInto('messages').values(rows).execute()
}

export async function insertEvents(db: DbOrTrx, rows: Insertable<MessageEventsTable>[]): Promise<void> {
  if (rows.length) await db.insertInto('message_events').values(rows).execute()
}

export function findMessage(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('messages').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export function listEvents(db: DbOrTrx, orgId: string, messageId: string) {
  return db.selectFrom('message_events').selectAll()
    .where('org_id', '=', orgId).where('message_id', '=', messageId).orderBy('id', 'asc').limit(1000).execute()
}

export interface ListFilter {
  limit: number; cursor?: string; status?: MessageStatus; tag?: string; createdAfter?: number; createdBefore?: number
  /** Only these environments (a test credential sees only test mail: access/sandbox.ts). */
  environments?: readonly ('live' | 'test')[]
}

/** Newest first; the cursor is the last id of the previous page. */
export function listMessages(db: DbOrTrx, orgId: string, f: ListFilter) {
  let q = db.selectFrom('messages').selectAll().where('org_id', '=', orgId)
  if (f.environments) q = q.where('environment', 'in', [...f.environments])
  if (f.cursor) q = q.where('id', '<', f.cursor)
  if (f.status) q = q.where('status', '=', f.status)
  // Tags are a JSON array of [A-Za-z0-9_.:-] strings, so the quoted form matches exactly one element.
  if (f.tag) q = q.where('tags', 'like', `%"${f.tag}"%`)
  if (f.createdAfter !== undefined) q = q.where('created_at', '>=', f.createdAfter)
  if (f.createdBefore !== undefined) q = q.where('created_at', '<', f.createdBefore)
  return q.orderBy('id', 'desc').limit(f.limit + 1).execute()
}

/** Adds delivered/failed counts atomically and returns the counts as they now are (one statement: RETURNING). */
export async function addOutcomeCounts(db: DbOrTrx, orgId: string, id: string, delivered: number, failed: number, now: number) {
  return db.updateTable('messages').set({
    delivered_count: sql`delivered_count + ${delivered}`,
    failed_count: sql`failed_count + ${failed}`,
    updated_at: now,
  }).where('org_id', '=', orgId).where('id', '=', id)
    .returning(['recipient_count', 'delivered_count', 'failed_count'])
    .executeTakeFirst()
}

export async function setStatus(db: DbOrTrx, orgId: string, id: string, status: MessageStatus, now: number): Promise<void> {
  await db.updateTable('messages').set({ status, updated_at: now }).where('org_id', '=', orgId).where('id', '=', id).execute()
}

/**
 * Deletes up to `limit` of an organization's messages created before `before`
 * (their events go with them: ON DELETE CASCADE; finished delivery jobs too).
 * Returns how many were deleted, so the caller can loop in batches.
 */
export async function purgeMessagesBefore(db: DbOrTrx, orgId: string, before: number, limit = 1000): Promise<number> {
  const ids = (await db.selectFrom('messages').select('id')
    .where('org_id', '=', orgId).where('created_at', '<', before).orderBy('id').limit(limit).execute()).map((r) => r.id)
  if (!ids.length) return 0
  await db.deleteFrom('message_events').where('org_id', '=', orgId).where('message_id', 'in', ids).execute()
  await db.deleteFrom('delivery_jobs').where('org_id', '=', orgId).where('message_id', 'in', ids).execute()
  await db.deleteFrom('messages').where('org_id', '=', orgId).where('id', 'in', ids).execute()
  return ids.length
}
