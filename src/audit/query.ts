import { AppError } from '../core/errors.ts'
import type { DbOrTrx } from '../storage/db.ts'
import type { AuditEventRow } from './table.ts'

export interface AuditFilter {
  actor?: string
  action?: string
  status?: number
  since?: string
  until?: string
}

export interface AuditEventView {
  id: string
  seq: number
  timestamp: string
  orgId: string | null
  action: string
  actor: { type: string; id: string } | null
  method: string | null
  route: string | null
  path: string | null
  status: number | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
  durationMs: number | null
  authFailure: string | null
  target: { type: string; id: string } | null
  outcome: string | null
  details: Record<string, unknown> | null
  hash: string
}

export function toView(r: AuditEventRow): AuditEventView {
  return {
    id: r.id, seq: Number(r.seq), timestamp: r.ts, orgId: r.org_id, action: r.action,
    actor: r.actor_type && r.actor_id ? { type: r.actor_type, id: r.actor_id } : null,
    method: r.method, route: r.route, path: r.path, status: r.status, ip: r.ip, userAgent: r.user_agent,
    requestId: r.request_id, durationMs: r.duration_ms, authFailure: r.auth_failure,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    outcome: r.outcome, details: r.details ? JSON.parse(r.details) : null, hash: r.hash,
  }
}

const toMs = (iso: string, name: string) => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new AppError('invalid_request', `${name} must be an ISO 8601 date-time.`)
  return ms
}

/** One organization's events, newest first (`order: 'desc'`) or oldest first for exports. */
export function selectEvents(db: DbOrTrx, orgId: string, f: AuditFilter, page: { afterSeq?: number; beforeSeq?: number; limit: number; order: 'asc' | 'desc' }) {
  let q = db.selectFrom('audit_events').selectAll().where('chain_id', '=', orgId).where('org_id', '=', orgId)
  if (f.actor) q = q.where('actor_id', '=', f.actor)
  if (f.action) q = q.where('action', '=', f.action)
  if (f.status !== undefined) q = q.where('status', '=', f.status)
  if (f.since) q = q.where('occurred_at', '>=', toMs(f.since, 'since'))
  if (f.until) q = q.where('occurred_at', '<', toMs(f.until, 'until'))
  if (page.afterSeq !== undefined) q = q.where('seq', '>', page.afterSeq)
  if (page.beforeSeq !== undefined) q = q.where('seq', '<', page.beforeSeq)
  return q.orderBy('seq', page.order).limit(page.limit).execute()
}

/** Cursors are opaque to callers: base64url of the last seq returned. */
export const encodeCursor = (seq: number) => Buffer.from(`s:${seq}`).toString('base64url')
export function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!m) throw new AppError('invalid_request', 'cursor is not valid.')
  return Number(m[1])
}

/** `MM/DD/YYYY HH:MM:SS` in UTC, for exports whose consumers want that form. */
export function usTimestamp(iso: string): string {
  const d = new Date(iso)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
}
