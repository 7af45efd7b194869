import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'kysely'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { seedChain } from './tamper.ts'

const [, pg] = await testDialects()

test('postgres: the audit tables refuse UPDATE, DELETE and TRUNCATE', { skip: pg.skip }, async (t) => {
  const h = await buildTestApp({ dialect: 'postgres' })
  t.after(() => h.close())
  const { orgId, rows } = await seedChain(h.db, h.app.audit, 3)
  await h.app.audit.writer.checkpoint()

  await assert.rejects(h.db.updateTable('audit_events').set({ status: 200 }).where('id', '=', rows[0].id).execute(), /append-only/)
  await assert.rejects(h.db.deleteFrom('audit_events').where('id', '=', rows[0].id).execute(), /append-only/)
  await assert.rejects(sql`truncate audit_events`.execute(h.db), /append-only/)
  await assert.rejects(h.db.deleteFrom('audit_checkpoints').where('chain_id', '=', orgId).execute(), /append-only/)
  await assert.rejects(h.db.updateTable('audit_checkpoints').set({ signature: 'x' }).where('chain_id', '=', orgId).execute(), /append-only/)

  // The purge setting is transaction-local: set outside a transaction it has no effect on the next statement.
  await sql`select set_config('sealpost.audit_purge', 'on', true)`.execute(h.db)
  await assert.rejects(h.db.deleteFrom('audit_events').where('id', '=', rows[0].id).execute(), /append-only/)
  // Inside a purge transaction, DELETE (only) is let through.
  await assert.rejects(h.db.transaction().execute(async (trx) => {
    await sql`select set_config('sealpost.audit_purge', 'on', true)`.execute(trx)
    await trx.updateTable('audit_events').set({ status: 200 }).where('id', '=', rows[0].id).execute()
  }), /append-only/)

  const left = await h.db.selectFrom('audit_events').select('id').where('chain_id', '=', orgId).execute()
  assert.equal(left.length, 3)
  assert.equal((await h.app.audit.verify({ chainId: orgId })).ok, true)
})
