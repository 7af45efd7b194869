import { sql, type Insertable, type Updateable } from 'kysely'
import type { Environment } from '../core/principal.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import { isPostgres } from '../storage/dialects.ts'
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookDeliveryRow, WebhookEndpointsTable } from './table.ts'

// Endpoints: every finder takes orgId, so another org's id reads as missing.

export async function insertEndpoint(db: DbOrTrx, row: Insertable<WebhookEndpointsTable>): Promise<void> {
  await db.insertInto('webhook_endpoints').values(row).execute()
}

export function findEndpoint(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('webhook_endpoints').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

/** Newest first; the cursor is the last id of the previous page. */
export function listEndpoints(db: DbOrTrx, orgId: string, environments: readonly Environment[], limit: number, cursor?: string) {
  let q = db.selectFrom('webhook_endpoints').selectAll().where('org_id', '=', orgId).where('environment', 'in', [...environments])
  if (cursor) q = q.where('id', '<', cursor)
  return q.orderBy('id', 'desc').limit(limit + 1).execute()
}

/**
 * Enabled endpoints of an org that may see an event of `environment`, with what they subscribe to (the
 * emit path's one query). Like every read (access/sandbox.ts): live endpoints get both, an endpoint
 * created by a test credential only sandbox events, never what happened to live mail.
 */
export function enabledEndpoints(db: DbOrTrx, orgId: string, environment: Environment = 'live') {
  const audience: Environment[] = environment === 'live' ? ['live'] : ['live', 'test']
  return db.selectFrom('webhook_endpoints').select(['id', 'events']).where('org_id', '=', orgId).where('environment', 'in', audience).where('enabled', '=', 1).execute()
}

export async function updateEndpoint(db: DbOrTrx, orgId: string, id: string, set: Updateable<WebhookEndpointsTable>): Promise<boolean> {
  const r = await db.updateTable('webhook_endpoints').set(set).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

/** The endpoint, its outbox rows and its attempt history go together. */
export async function deleteEndpoint(db: Db, orgId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('webhook_endpoints').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
    if (!Number(r.numDeletedRows)) return false
    await trx.deleteFrom('webhook_deliveries').where('org_id', '=', orgId).where('endpoint_id', '=', id).execute()
    await trx.deleteFrom('webhook_attempts').where('org_id', '=', orgId).where('endpoint_id', '=', id).execute()
    return true
  })
}

// Outbox.

export async function insertDeliveries(db: DbOrTrx, rows: Insertable<WebhookDeliveriesTable>[]): Promise<void> {
  if (!rows.length) return
  await db.insertInto('webhook_deliveries').values(rows)
    // A redelivered outcome (the worker retried its transaction) does not queue the event twice.
    .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
    .execute()
}

/**
 * Leases up to `limit` due rows to `owner` and counts the attempt. PostgreSQL picks rows
 * with FOR UPDATE SKIP LOCKED in a materialized CTE (several dispatchers never share a
 * row); SQLite runs the same UPDATE … RETURNING under its single writer lock.
 */
export async function claimDue(db: Db, owner: string, now: number, leaseMs: number, limit: number): Promise<WebhookDeliveryRow[]> {
  const due = db.selectFrom('webhook_deliveries').select('webhook_deliveries.id')
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('next_attempt_at').orderBy('id')
    .limit(limit)
  const base = isPostgres(db)
    ? db.with((w) => w('due').materialized(), () => due.forUpdate().skipLocked())
    : db.with('due', () => due)
  return base.updateTable('webhook_deliveries')
    .set({ lease_owner: owner, lease_until: now + leaseMs, attempts: sql`attempts + 1`, updated_at: now })
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    // Re-checked on the locked row: a row changed since the scan is never double-leased.
    .where('state', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .returningAll()
    .execute()
}

/** Writes the attempt and the row's next state, only while `owner` still holds the lease. */
export async function settleDelivery(
  db: Db,
  row: Pick<WebhookDeliveryRow, 'id' | 'org_id'>,
  owner: string,
  next: Updateable<WebhookDeliveriesTable>,
  attempt: Insertable<WebhookAttemptsTable>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('webhook_deliveries').set({ ...next, lease_owner: null, lease_until: null })
      .where('org_id', '=', row.org_id).where('id', '=', row.id).where('lease_owner', '=', owner)
      .executeTakeFirst()
    if (!Number(r.numUpdatedRows)) return false
    await trx.insertInto('webhook_attempts').values(attempt).execute()
    return true
  })
}

/** Recent attempts of one endpoint, newest first, with their delivery's current state. */
export function listAttempts(db: DbOrTrx, orgId: string, endpointId: string, limit: number, cursor?: string) {
  let q = db.selectFrom('webhook_attempts as a')
    .leftJoin('webhook_deliveries as d', (j) => j.onRef('d.id', '=', 'a.delivery_id').onRef('d.org_id', '=', 'a.org_id'))
    .select(['a.id', 'a.delivery_id', 'a.event_id', 'a.event_type', 'a.attempt', 'a.at', 'a.status_code', 'a.duration_ms', 'a.error', 'a.ok', 'd.state', 'd.next_attempt_at'])
    .where('a.org_id', '=', orgId).where('a.endpoint_id', '=', endpointId)
  if (cursor) q = q.where('a.id', '<', cursor)
  return q.orderBy('a.id', 'desc').limit(limit + 1).execute()
}

/** Retention: attempt history and finished outbox rows older than `before` go. */
export async function pruneHistory(db: DbOrTrx, before: number): Promise<void> {
  await db.deleteFrom('webhook_attempts').where('at', '<', before).execute()
  await db.deleteFrom('webhook_deliveries').where('state', '<>', 'pending').where('completed_at', '<', before).execute()
}
