import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { AppError, notFound } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import type { Signal } from './detectors/signal.ts'
import type { PolicyStore } from './policy.ts'
import type { Responder } from './responder.ts'
import { defaultPolicy } from './rules.ts'
import type { AlertStatus } from './table.ts'
import { toAlertView, type AlertView } from './alert-view.ts'
import { findAlert, findOpenAlert, insertAlert, listAlerts, setAlertActions, transitionAlert, updateAlertRepeat } from './store.ts'

const SYSTEM = { type: 'system' as const, id: 'monitoring' }
const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const

export interface AlertFilter { status?: AlertStatus; severity?: string; rule?: string; cursor?: string; limit?: number }

/**
 * Alerts: stored with their evidence, de-duplicated per (organization, rule,
 * subject) while open, answered by the responder, and managed over the API.
 */
export function createAlertService(deps: { db: Db; clock: Clock; audit: AuditRecorder; policies: PolicyStore; responder: Responder; onRaised?: (rule: string, severity: string) => void }) {
  const { db, clock, audit } = deps

  async function raise(signal: Signal): Promise<AlertView> {
    const now = clock.now().getTime()
    const open = await findOpenAlert(db, signal.orgId, signal.rule, signal.subject)
    let view: AlertView
    if (open) {
      const severity = SEVERITY_RANK[signal.severity] > SEVERITY_RANK[open.severity] ? signal.severity : open.severity
      await updateAlertRepeat(db, open.id, { count: open.count + 1, last_seen_at: now, evidence: JSON.stringify(signal.evidence), actions: open.actions, severity })
      view = toAlertView({ ...open, count: open.count + 1, last_seen_at: now, evidence: JSON.stringify(signal.evidence), severity })
    } else {
      const row = {
        id: newId('alr', now), org_id: signal.orgId, rule: signal.rule, severity: signal.severity, status: 'open' as const,
        subject_type: signal.subject.type, subject_id: signal.subject.id, summary: signal.summary,
        evidence: JSON.stringify(signal.evidence), actions: '[]', count: 1, first_seen_at: now, last_seen_at: now,
        acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null,
      }
      await insertAlert(db, row)
      view = toAlertView(row)
      audit.record({ orgId: signal.orgId, actor: SYSTEM, action: 'alert.raised', target: { type: 'alert', id: row.id }, details: { rule: signal.rule, severity: signal.severity, subject: signal.subject } })
    }
    deps.onRaised?.(signal.rule, signal.severity)
    const policy = signal.orgId ? (await deps.policies.get(signal.orgId)).rules[signal.rule] : defaultPolicy(signal.rule)
    const taken = await deps.responder.respond(view, signal, policy, Boolean(open))
    if (taken.length) {
      view = { ...view, actions: [...view.actions, ...taken] }
      await setAlertActions(db, signal.orgId, view.id, JSON.stringify(view.actions))
    }
    return view
  }

  async function transition(p: Principal, id: string, to: 'acknowledged' | 'resolved', meta: { ip?: string; requestId?: string }): Promise<AlertView> {
    const row = await findAlert(db, p.orgId, id)
    if (!row) throw notFound('Alert')
    if (!(await transitionAlert(db, p.orgId, id, to, clock.now().getTime(), `${p.actor.type}:${p.actor.id}`))) {
      throw new AppError('conflict', `The alert is already ${row.status}.`)
    }
    audit.record({ orgId: p.orgId, actor: p.actor, action: to === 'acknowledged' ? 'alert.acknowledged' : 'alert.resolved', target: { type: 'alert', id }, ip: meta.ip, requestId: meta.requestId })
    return toAlertView((await findAlert(db, p.orgId, id))!)
  }

  return {
    raise,
    /** Applies what can be applied in memory at once (see responder.preempt). */
    preempt(signal: Signal) {
      const policy = signal.orgId ? (deps.policies.peek(signal.orgId)?.rules[signal.rule] ?? null) : defaultPolicy(signal.rule)
      deps.responder.preempt(signal, policy)
    },
    async list(p: Principal, f: AlertFilter) {
      const limit = f.limit ?? 50
      const rows = await listAlerts(db, p.orgId, { ...f, beforeId: f.cursor, limit: limit + 1 })
      const page = rows.slice(0, limit)
      return { data: page.map(toAlertView), nextCursor: rows.length > limit ? page[page.length - 1].id : null }
    },
    /** Alerts no organization owns (IP-level credential stuffing): operators only (CLI, dashboards). */
    async listSystem(f: AlertFilter = {}) {
      return (await listAlerts(db, null, { ...f, beforeId: f.cursor, limit: f.limit ?? 100 })).map(toAlertView)
    },
    async get(p: Principal, id: string) {
      const row = await findAlert(db, p.orgId, id)
      if (!row) throw notFound('Alert')
      return toAlertView(row)
    },
    acknowledge: (p: Principal, id: string, meta: { ip?: string; requestId?: string }) => transition(p, id, 'acknowledged', meta),
    resolve: (p: Principal, id: string, meta: { ip?: string; requestId?: string }) => transition(p, id, 'resolved', meta),
  }
}

export type AlertService = ReturnType<typeof createAlertService>
