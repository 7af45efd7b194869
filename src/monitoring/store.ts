import type { Insertable } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import type { MonitoringAlertsTable, MonitoringIpBlocksTable, MonitoringThrottlesTable, AlertStatus } from './table.ts'

/** The open (not resolved) alert for this rule and subject, if any: repeats update it instead of piling up. */
export function findOpenAlert(db: DbOrTrx, orgId: string | null, rule: string, subject: { type: string; id: string }) {
  return db.selectFrom('monitoring_alerts').selectAll()
    .where((eb) => (orgId === null ? eb('org_id', 'is', null) : eb('org_id', '=', orgId)))
    .where('rule', '=', rule).where('subject_type', '=', subject.type).where('subject_id', '=', subject.id)
    .where('status', '!=', 'resolved')
    .executeTakeFirst()
}

export async function insertAlert(db: DbOrTrx, row: Insertable<MonitoringAlertsTable>): Promise<void> {
  await db.insertInto('monitoring_alerts').values(row).execute()
}

export async function updateAlertRepeat(db: DbOrTrx, id: string, patch: { count: number; last_seen_at: number; evidence: string; actions: string; severity: string }): Promise<void> {
  await db.updateTable('monitoring_alerts').set(patch as any).where('id', '=', id).execute()
}

export async function setAlertActions(db: DbOrTrx, orgId: string | null, id: string, actions: string): Promise<void> {
  await db.updateTable('monitoring_alerts').set({ actions })
    .where((eb) => (orgId === null ? eb('org_id', 'is', null) : eb('org_id', '=', orgId)))
    .where('id', '=', id).execute()
}

export function findAlert(db: DbOrTrx, orgId: string, id: string) {
  return db.selectFrom('monitoring_alerts').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()
}

export function listAlerts(db: DbOrTrx, orgId: string | null, f: { status?: AlertStatus; severity?: string; rule?: string; beforeId?: string; limit: number }) {
  let q = db.selectFrom('monitoring_alerts').selectAll()
    .where((eb) => (orgId === null ? eb('org_id', 'is', null) : eb('org_id', '=', orgId)))
  if (f.status) q = q.where('status', '=', f.status)
  if (f.severity) q = q.where('severity', '=', f.severity as any)
  if (f.rule) q = q.where('rule', '=', f.rule)
  if (f.beforeId) q = q.where('id', '<', f.beforeId)
  return q.orderBy('id', 'desc').limit(f.limit).execute()
}

export async function transitionAlert(db: DbOrTrx, orgId: string, id: string, to: 'acknowledged' | 'resolved', at: number, by: string): Promise<boolean> {
  const patch = to === 'acknowledged'
    ? { status: to, acknowledged_at: at, acknowledged_by: by }
    : { status: to, resolved_at: at, resolved_by: by }
  const from: AlertStatus[] = to === 'acknowledged' ? ['open'] : ['open', 'acknowledged']
  const r = await db.updateTable('monitoring_alerts').set(patch as any)
    .where('org_id', '=', orgId).where('id', '=', id).where('status', 'in', from).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export async function insertIpBlock(db: DbOrTrx, row: Insertable<MonitoringIpBlocksTable>): Promise<void> {
  await db.insertInto('monitoring_ip_blocks').values(row).execute()
}

/** Blocks in force (global and every organization's), for the guards' cache. */
export function activeIpBlocks(db: DbOrTrx, now: number) {
  return db.selectFrom('monitoring_ip_blocks').selectAll().where('expires_at', '>', now).where('lifted_at', 'is', null).execute()
}

export function listOrgIpBlocks(db: DbOrTrx, orgId: string, now: number) {
  return db.selectFrom('monitoring_ip_blocks').selectAll().where('org_id', '=', orgId)
    .where('expires_at', '>', now).where('lifted_at', 'is', null).orderBy('id', 'desc').limit(500).execute()
}

export async function liftIpBlock(db: DbOrTrx, orgId: string, id: string, at: number, by: string) {
  const r = await db.updateTable('monitoring_ip_blocks').set({ lifted_at: at, lifted_by: by })
    .where('org_id', '=', orgId).where('id', '=', id).where('lifted_at', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

export async function insertThrottle(db: DbOrTrx, row: Insertable<MonitoringThrottlesTable>): Promise<void> {
  await db.insertInto('monitoring_throttles').values(row).execute()
}

export function activeThrottles(db: DbOrTrx, now: number) {
  return db.selectFrom('monitoring_throttles').selectAll().where('expires_at', '>', now).execute()
}

/** Suspends a live key of this organization; false if it was already suspended, revoked or is not theirs. */
export async function suspendKey(db: DbOrTrx, orgId: string, keyId: string, at: number, reason: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ suspended_at: at, suspended_reason: reason })
    .where('org_id', '=', orgId).where('id', '=', keyId).where('suspended_at', 'is', null).where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}
