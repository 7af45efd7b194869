import { sql, type Kysely } from 'kysely'
import type { Db, DbOrTrx } from '../../src/storage/db.ts'
import type { DeliveryOutcome, MessageSource, OutboundMessage } from '../../src/delivery/contract.ts'

export interface RecordedOutcome { messageId: string; outcome: DeliveryOutcome; at: number }

/**
 * The smallest MessageSource: messages held in memory, outcomes written to a test table
 * inside the worker's transaction (so a rolled-back attempt leaves no outcome behind).
 */
export async function createTestSource(db: Db): Promise<MessageSource & { add(msg: OutboundMessage): void; outcomes(messageId?: string): Promise<RecordedOutcome[]> }> {
  await sql`create table if not exists test_outcomes (seq integer, message_id text not null, outcome text not null, at bigint not null)`.execute(db)
  const messages = new Map<string, OutboundMessage>()
  let seq = 0
  const prepareOutcome: MessageSource['prepareOutcome'] = async (_orgId, messageId, outcome, at) => async (trx: DbOrTrx) => {
    await sql`insert into test_outcomes (seq, message_id, outcome, at) values (${seq++}, ${messageId}, ${JSON.stringify(outcome)}, ${at})`.execute(trx as Kysely<any>)
  }
  return {
    add(msg) { messages.set(msg.id, msg) },
    async loadForDelivery(orgId, messageId) {
      const m = messages.get(messageId)
      return m && m.orgId === orgId ? m : null
    },
    prepareOutcome,
    async recordOutcome(orgId, messageId, outcome, at) {
      await db.transaction().execute(await prepareOutcome(orgId, messageId, outcome, at))
    },
    async outcomes(messageId) {
      const rows = await sql<{ message_id: string; outcome: string; at: number }>`select message_id, outcome, at from test_outcomes order by seq`.execute(db)
      return rows.rows.filter((r) => !messageId || r.message_id === messageId)
        .map((r) => ({ messageId: r.message_id, outcome: JSON.parse(r.outcome), at: Number(r.at) }))
    },
  }
}
