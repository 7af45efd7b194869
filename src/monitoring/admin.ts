import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { notFound } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import type { Enforcement } from './enforcement.ts'
import { listOrgIpBlocks, liftIpBlock } from './store.ts'

export interface RequestMeta { ip?: string; requestId?: string }

/** Undoing automatic responses: lifting an organization's IP block (keys/ reinstates suspended keys). */
export function createResponseAdmin(deps: { db: Db; clock: Clock; audit: AuditRecorder; enforcement: Enforcement }) {
  const { db, clock, audit, enforcement } = deps
  return {
    async listIpBlocks(p: Principal) {
      const rows = await listOrgIpBlocks(db, p.orgId, clock.now().getTime())
      return { data: rows.map((r) => ({ id: r.id, ip: r.ip, reason: r.reason, alertId: r.alert_id, createdAt: new Date(Number(r.created_at)).toISOString(), expiresAt: new Date(Number(r.expires_at)).toISOString() })) }
    },
    async liftIpBlock(p: Principal, id: string, meta: RequestMeta) {
      if (!(await liftIpBlock(db, p.orgId, id, clock.now().getTime(), `${p.actor.type}:${p.actor.id}`))) throw notFound('IP block')
      enforcement.removeBlock(id)
      audit.record({ orgId: p.orgId, actor: p.actor, action: 'monitoring.ip_unblocked', target: { type: 'ip_block', id }, ip: meta.ip, requestId: meta.requestId })
    },
  }
}

export type ResponseAdmin = ReturnType<typeof createResponseAdmin>
