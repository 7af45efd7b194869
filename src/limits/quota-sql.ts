import type { Db } from '../storage/db.ts'
import type { QuotaCounter, QuotaStore } from './quota-store.ts'

class Exceeded extends Error {
  readonly counter: QuotaCounter
  readonly used: number
  constructor(counter: QuotaCounter, used: number) {
    super('quota exceeded')
    this.counter = counter
    this.used = used
  }
}

/**
 * Counters in `quota_counters`. In one transaction: create missing rows, then one
 * conditional UPDATE per counter (`used + amount <= limit`, restarting a stale window).
 * PostgreSQL row locks serialize concurrent reservations and re-check the WHERE on
 * the committed row; SQLite runs one write transaction at a time. A counter that
 * does not fit aborts the transaction, so nothing is reserved.
 */
export function createSqlQuotaStore(db: Db): QuotaStore {
  return {
    async reserve(orgId, counters) {
      // Same lock order in every transaction: no deadlocks between concurrent batches.
      const sorted = [...counters].sort((a, b) => (a.subject + a.window).localeCompare(b.subject + b.window))
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('quota_counters')
            .values(sorted.map((c) => ({ org_id: orgId, subject: c.subject, window: c.window, window_start: c.windowStart, used: 0 })))
            .onConflict((oc) => oc.columns(['org_id', 'subject', 'window']).doNothing())
            .execute()
          for (const c of sorted) {
            const r = await trx.updateTable('quota_counters')
              .set((eb) => ({
                used: eb.case().when('window_start', '=', c.windowStart).then(eb('used', '+', c.amount)).else(c.amount).end(),
                window_start: c.windowStart,
              }))
              .where('org_id', '=', orgId).where('subject', '=', c.subject).where('window', '=', c.window)
              .where((eb) => eb(eb(eb.case().when('window_start', '=', c.windowStart).then(eb.ref('used')).else(0).end(), '+', c.amount), '<=', c.limit))
              .executeTakeFirst()
            if (Number(r.numUpdatedRows) === 0) {
              const row = await trx.selectFrom('quota_counters').select(['used', 'window_start'])
                .where('org_id', '=', orgId).where('subject', '=', c.subject).where('window', '=', c.window).executeTakeFirst()
              throw new Exceeded(c, row && Number(row.window_start) === c.windowStart ? Number(row.used) : 0)
            }
          }
        })
        return null
      } catch (e) {
        if (e instanceof Exceeded) return { counter: e.counter, used: e.used }
        throw e
      }
    },
    async usage(orgId, counters) {
      if (!counters.length) return []
      const rows = await db.selectFrom('quota_counters').select(['subject', 'window', 'window_start', 'used'])
        .where('org_id', '=', orgId).where('subject', 'in', [...new Set(counters.map((c) => c.subject))]).execute()
      return counters.map((c) => {
        const r = rows.find((x) => x.subject === c.subject && x.window === c.window)
        return r && Number(r.window_start) === c.windowStart ? Number(r.used) : 0
      })
    },
  }
}
