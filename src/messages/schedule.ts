import { AppError, notFound } from '../core/errors.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { ExpressionBuilder } from 'kysely'
import type { Db, DbOrTrx } from '../storage/db.ts'
import type { Database } from '../storage/schema.ts'
import { MAX_SCHEDULE_MS } from './draft.ts'
import { canSee } from '../access/sandbox.ts'
import { findMessage, insertEvents } from './store.ts'

export interface ScheduleDeps { db: Db; clock: Clock; audit: AuditRecorder }

const notScheduled = () => new AppError('conflict', 'The message is no longer scheduled: it was already claimed for delivery, sent or canceled.', { details: [{ path: 'status', message: 'not_scheduled' }] })

/**
 * Cancel and reschedule of a `scheduled` message, possible only until a delivery
 * worker claims it. Each runs in one transaction that first touches the message's
 * unclaimed jobs (attempts = 0, no lease): a concurrent claim either already holds
 * them (the DELETE/UPDATE waits for its row lock, then no longer matches) or
 * skips them (SKIP LOCKED). If not every job of the message was caught, or the
 * message left `scheduled` meanwhile, the transaction is rolled back: 409.
 */
export function createScheduleService(deps: ScheduleDeps) {
  async function load(principal: Principal, id: string) {
    const m = await findMessage(deps.db, principal.orgId, id)
    // A test credential does not see live traffic (access/sandbox.ts): same answer as a missing message.
    if (!m || !canSee(principal, m.environment)) throw notFound('Message')
    if (m.status !== 'scheduled') throw notScheduled()
    return m
  }

  /** The message's jobs no worker has taken yet (a released claim gives attempts back). */
  const unclaimed = (orgId: string, id: string) => (eb: ExpressionBuilder<Database, 'delivery_jobs'>) => eb.and([
    eb('org_id', '=', orgId), eb('message_id', '=', id), eb('state', '=', 'queued'), eb('attempts', '=', 0), eb('lease_owner', 'is', null),
  ])

  async function jobCount(trx: DbOrTrx, orgId: string, id: string): Promise<number> {
    const r = await trx.selectFrom('delivery_jobs').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', orgId).where('message_id', '=', id).executeTakeFirstOrThrow()
    return Number(r.n)
  }

  async function setScheduledStatus(trx: DbOrTrx, orgId: string, id: string, set: { status?: 'canceled'; send_at?: number }, now: number) {
    const r = await trx.updateTable('messages').set({ ...set, updated_at: now })
      .where('org_id', '=', orgId).where('id', '=', id).where('status', '=', 'scheduled').executeTakeFirst()
    if (Number(r.numUpdatedRows) !== 1) throw notScheduled()
  }

  async function cancel(principal: Principal, id: string, meta: { ip?: string; requestId?: string } = {}) {
    const m = await load(principal, id)
    const now = deps.clock.now().getTime()
    await deps.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('delivery_jobs').where(unclaimed(m.org_id, id)).executeTakeFirst()
      // Any job left is claimed (or finished): the message is on its way.
      if (Number(removed.numDeletedRows) === 0 || await jobCount(trx, m.org_id, id) > 0) throw notScheduled()
      await setScheduledStatus(trx, m.org_id, id, { status: 'canceled' }, now)
      await insertEvents(trx, [{ id: newId('evt', now), org_id: m.org_id, message_id: id, type: 'canceled', at: now, detail: null }])
    })
    deps.audit.record({ orgId: m.org_id, actor: principal.actor, action: 'message.canceled', target: { type: 'message', id }, ...meta })
    return { id, status: 'canceled' as const, send_at: new Date(Number(m.send_at)).toISOString() }
  }

  async function reschedule(principal: Principal, id: string, sendAtIso: string, meta: { ip?: string; requestId?: string } = {}) {
    // Found first: another org's id is 404 whatever the body says.
    const m = await load(principal, id)
    const now = deps.clock.now().getTime()
    const sendAt = Date.parse(sendAtIso)
    if (!Number.isFinite(sendAt) || sendAt <= now) {
      throw new AppError('invalid_request', 'send_at must be a date in the future.', { details: [{ path: 'send_at', message: 'not in the future' }] })
    }
    if (sendAt > now + MAX_SCHEDULE_MS) {
      throw new AppError('invalid_request', 'send_at may be at most 30 days ahead.', { details: [{ path: 'send_at', message: 'too far ahead' }] })
    }
    await deps.db.transaction().execute(async (trx) => {
      const total = await jobCount(trx, m.org_id, id)
      const moved = await trx.updateTable('delivery_jobs').set({ run_at: sendAt, updated_at: now }).where(unclaimed(m.org_id, id)).executeTakeFirst()
      if (total === 0 || Number(moved.numUpdatedRows) !== total) throw notScheduled()
      await setScheduledStatus(trx, m.org_id, id, { send_at: sendAt }, now)
    })
    deps.audit.record({
      orgId: m.org_id, actor: principal.actor, action: 'message.rescheduled', target: { type: 'message', id },
      details: { from: new Date(Number(m.send_at)).toISOString(), to: new Date(sendAt).toISOString() }, ...meta,
    })
    return { id, status: 'scheduled' as const, send_at: new Date(sendAt).toISOString() }
  }

  return { cancel, reschedule }
}

export type ScheduleService = ReturnType<typeof createScheduleService>
