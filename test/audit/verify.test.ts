import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'kysely'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { hashEvent } from '../../src/audit/chain.ts'
import { loadAuditVerifier } from '../../src/audit/signer.ts'
import { verifyAudit } from '../../src/audit/verify.ts'
import { asAttacker, seedChain } from './tamper.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: audit hash chain verification`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const audit = h.app.audit
    const verifyOrg = (orgId: string) => audit.verify({ chainId: orgId })

    await t.test('an untouched chain verifies', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 30)
      assert.equal(rows.length, 30)
      assert.deepEqual(rows.map((r) => Number(r.seq)), Array.from({ length: 30 }, (_, i) => i + 1))
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, true, JSON.stringify(r.problems))
      assert.equal(r.events, 30)
    })

    await t.test('a modified row is named', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        await trx.updateTable('audit_events').set({ actor_id: 'usr_innocent' }).where('id', '=', rows[4].id).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'modified')
      assert.equal(r.problems[0].eventId, rows[4].id)
    })

    await t.test('a modified row whose hash was recomputed breaks the next link', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        const forged = { ...rows[3], status: 200, details: '{"i":999}' }
        await trx.updateTable('audit_events').set({ details: forged.details, status: 200, hash: hashEvent(forged) }).where('id', '=', rows[3].id).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      // The forged row is self-consistent; the chain breaks at the next one.
      assert.equal(r.problems[0].eventId, rows[4].id)
    })

    await t.test('a deleted row is named by the gap it leaves', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        await trx.deleteFrom('audit_events').where('id', '=', rows[6].id).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'deleted')
      assert.equal(r.problems[0].eventId, rows[7].id)
      assert.match(r.problems[0].message, new RegExp(`${rows[5].id} and ${rows[7].id}`))
    })

    await t.test('deleting the newest rows is caught against the chain head', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        await trx.deleteFrom('audit_events').where('id', 'in', [rows[8].id, rows[9].id]).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'deleted')
    })

    await t.test('an inserted row is named, even with a well-formed hash', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        // Make room at seq 5, then slip a forged event in, linked to its predecessor.
        await trx.updateTable('audit_events').set({ seq: sql`-(seq + 1)` }).where('chain_id', '=', orgId).where('seq', '>=', 5).execute()
        await trx.updateTable('audit_events').set({ seq: sql`-seq` }).where('chain_id', '=', orgId).where('seq', '<', 0).execute()
        const forged = { ...rows[4], id: 'aud_forged0000000000000000000', seq: 5, prev_hash: rows[3].hash, action: 'key.created', actor_id: 'usr_mallory' }
        forged.hash = hashEvent(forged)
        await trx.insertInto('audit_events').values(forged).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'inserted')
      assert.equal(r.problems[0].eventId, 'aud_forged0000000000000000000')
    })

    await t.test('two swapped rows are named as reordered', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await asAttacker(h.db, async (trx) => {
        await trx.updateTable('audit_events').set({ seq: -1 }).where('id', '=', rows[2].id).execute()
        await trx.updateTable('audit_events').set({ seq: 3 }).where('id', '=', rows[3].id).execute()
        await trx.updateTable('audit_events').set({ seq: 4 }).where('id', '=', rows[2].id).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'reordered')
      assert.equal(r.problems[0].eventId, rows[3].id)
    })

    await t.test('a chain rewritten from a modified event onward fails its signed checkpoint', async () => {
      const { orgId, rows } = await seedChain(h.db, audit, 10)
      await audit.writer.checkpoint() // signs a checkpoint over the newest event
      await asAttacker(h.db, async (trx) => {
        let prev = rows[1].hash
        for (const row of rows.slice(2)) {
          const forged = { ...row, prev_hash: prev, details: row.id === rows[2].id ? '{"i":"forged"}' : row.details }
          forged.hash = hashEvent(forged)
          prev = forged.hash
          await trx.updateTable('audit_events').set({ details: forged.details, prev_hash: forged.prev_hash, hash: forged.hash }).where('id', '=', row.id).execute()
        }
        await trx.updateTable('audit_chain_heads').set({ hash: prev }).where('chain_id', '=', orgId).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'rewritten')
      assert.equal(r.problems[0].eventId, rows[9].id)
    })

    await t.test('a checkpoint signed by an unknown key is refused', async () => {
      const { orgId } = await seedChain(h.db, audit, 3)
      await audit.writer.checkpoint()
      await asAttacker(h.db, async (trx) => {
        await trx.updateTable('audit_checkpoints').set({ key_id: 'ed25519:attacker' }).where('chain_id', '=', orgId).execute()
      })
      const r = await verifyOrg(orgId)
      assert.equal(r.problems[0].kind, 'bad_signature')
    })

    await t.test('verification needs only the public keys', async () => {
      const { orgId } = await seedChain(h.db, audit, 5)
      await audit.writer.checkpoint()
      const r = await verifyAudit(h.db, loadAuditVerifier(h.dataDir), { chainId: orgId })
      assert.equal(r.ok, true, JSON.stringify(r.problems))
      assert.ok(r.checkpoints >= 1)
    })
  })
}
