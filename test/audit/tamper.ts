import { sql } from 'kysely'
import type { Db, DbOrTrx } from '../../src/storage/db.ts'
import { isPostgres } from '../../src/storage/dialects.ts'
import { newId } from '../../src/core/ids.ts'
import type { AuditService } from '../../src/audit/service.ts'

/**
 * Acts as an attacker with database access. On PostgreSQL the append-only
 * trigger is bypassed the way a superuser could (replication role), so the
 * test shows that the hash chain catches what the trigger cannot stop.
 */
export async function asAttacker(db: Db, fn: (trx: DbOrTrx) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (isPostgres(trx)) await sql`set local session_replication_role = replica`.execute(trx)
    await fn(trx)
  })
}

/** Writes `n` admin events to a fresh organization's chain and returns them in chain order. */
export async function seedChain(db: Db, audit: AuditService, n: number, orgId = newId('org')) {
  for (let i = 0; i < n; i++) {
    audit.recorder.record({ orgId, actor: { type: 'user', id: `usr_${i}` }, action: 'test.action', details: { i } })
  }
  await audit.writer.flush()
  const rows = await db.selectFrom('audit_events').selectAll().where('chain_id', '=', orgId).orderBy('seq').execute()
  return { orgId, rows }
}
