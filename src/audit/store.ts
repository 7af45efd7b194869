import { sql } from 'kysely'
import type { DbOrTrx } from '../storage/db.ts'
import { isPostgres } from '../storage/dialects.ts'
import type { NewAuditEventRow, AuditCheckpointsTable } from './table.ts'
import type { Insertable } from 'kysely'
import { GENESIS_HASH } from './chain.ts'

/**
 * Takes the chain head's row lock (creating the head if needed) and returns it.
 * The first statement writes, so SQLite takes its write lock up front and
 * PostgreSQL locks the row: concurrent flushers append to a chain one at a time.
 */
export async function lockChainHead(trx: DbOrTrx, chainId: string, now: number) {
  await trx.insertInto('audit_chain_heads')
    .values({ chain_id: chainId, seq: 0, hash: GENESIS_HASH, events_since_checkpoint: 0, last_checkpoint_at: now })
    .onConflict((oc) => oc.column('chain_id').doNothing())
    .execute()
  await trx.updateTable('audit_chain_heads').set((eb) => ({ seq: eb.ref('seq') })).where('chain_id', '=', chainId).execute()
  return trx.selectFrom('audit_chain_heads').selectAll().where('chain_id', '=', chainId).executeTakeFirstOrThrow()
}

export async function saveChainHead(trx: DbOrTrx, head: { chain_id: string; seq: number; hash: string; events_since_checkpoint: number; last_checkpoint_at: number }): Promise<void> {
  await trx.updateTable('audit_chain_heads')
    .set({ seq: head.seq, hash: head.hash, events_since_checkpoint: head.events_since_checkpoint, last_checkpoint_at: head.last_checkpoint_at })
    .where('chain_id', '=', head.chain_id).execute()
}

const INSERT_CHUNK = 200

export async function insertEvents(trx: DbOrTrx, rows: NewAuditEventRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx.insertInto('audit_events').values(rows.slice(i, i + INSERT_CHUNK)).execute()
  }
}

export async function insertCheckpoint(trx: DbOrTrx, row: Insertable<AuditCheckpointsTable>): Promise<void> {
  await trx.insertInto('audit_checkpoints').values(row).execute()
}

export async function listChains(db: DbOrTrx, chainId?: string): Promise<string[]> {
  let q = db.selectFrom('audit_chain_heads').select('chain_id').orderBy('chain_id')
  if (chainId) q = q.where('chain_id', '=', chainId)
  return (await q.execute()).map((r) => r.chain_id)
}

/** Events of one chain in seq order, a page at a time (verification streams the chain). */
export function eventsPage(db: DbOrTrx, chainId: string, afterSeq: number, limit: number) {
  return db.selectFrom('audit_events').selectAll()
    .where('chain_id', '=', chainId).where('seq', '>', afterSeq)
    .orderBy('seq').limit(limit).execute()
}

export function checkpointsOf(db: DbOrTrx, chainId: string) {
  return db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', chainId).orderBy('seq').orderBy('created_at').execute()
}

/**
 * The retention purge is the only DELETE the PostgreSQL trigger lets through:
 * it checks the transaction-local setting `sealpost.audit_purge`, set here with
 * `set_config(..., true)` so it ends with the transaction.
 */
export async function allowPurgeInTransaction(trx: DbOrTrx): Promise<void> {
  if (isPostgres(trx)) await sql`select set_config('sealpost.audit_purge', 'on', true)`.execute(trx)
}
