import type { AlertRow } from './table.ts'

export interface AlertView {
  id: string
  orgId: string | null
  rule: string
  severity: string
  status: string
  subject: { type: string; id: string }
  summary: string
  evidence: Record<string, unknown>
  actions: { action: string; ok: boolean; detail?: string; at: string }[]
  count: number
  firstSeenAt: string
  lastSeenAt: string
  acknowledgedAt: string | null
  acknowledgedBy: string | null
  resolvedAt: string | null
  resolvedBy: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString())

export function toAlertView(r: AlertRow): AlertView {
  return {
    id: r.id, orgId: r.org_id, rule: r.rule, severity: r.severity, status: r.status,
    subject: { type: r.subject_type, id: r.subject_id }, summary: r.summary,
    evidence: JSON.parse(r.evidence), actions: JSON.parse(r.actions), count: r.count,
    firstSeenAt: iso(r.first_seen_at)!, lastSeenAt: iso(r.last_seen_at)!,
    acknowledgedAt: iso(r.acknowledged_at), acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at), resolvedBy: r.resolved_by,
  }
}
