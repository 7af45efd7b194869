import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { listSystemMail } from './store.ts'

/** The system mail an organization's admins may see: kind, outcome and the message's delivery status. */
export function createSystemMailLog(deps: { db: Db }) {
  return {
    async list(principal: Principal, q: { limit?: number; cursor?: string }) {
      const limit = q.limit ?? 20
      const rows = await listSystemMail(deps.db, principal.orgId, limit, q.cursor)
      const page = rows.slice(0, limit)
      return {
        data: page.map((r) => ({ id: r.id, kind: r.kind, outcome: r.outcome, message_id: r.message_id, message_status: r.message_status ?? null, created_at: new Date(Number(r.created_at)).toISOString() })),
        next_cursor: rows.length > limit ? page[page.length - 1].id : null,
      }
    },
  }
}

export type SystemMailLog = ReturnType<typeof createSystemMailLog>
