import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { DAY } from '../../src/core/clock.ts'
import { newId } from '../../src/core/ids.ts'
import { asAttacker } from './tamper.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: audit retention`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const audit = h.app.audit
    const start = h.clock.now().getTime()

    /** 5 events 200 days ago, 5 at 100 days ago, 5 now: one organization's chain. */
    async function agedChain(orgId = newId('org')) {
      for (const ago of [200, 100, 0]) {
        h.clock.set(new Date(start - ago * DAY))
        for (let i = 0; i < 5; i++) audit.recorder.record({ orgId, actor: { type: 'user', id: 'usr_a' }, action: 'test.aged', details: { ago, i } })
        await audit.writer.flush()
      }
      h.clock.set(new Date(start))
      return orgId
    }
    const count = async (orgId: string) => (await h.db.selectFrom('audit_events').select('id').where('chain_id', '=', orgId).execute()).length

    await t.test('the default keeps 90 days; the rest is replaced by a signed anchor and the chain still verifies', async () => {
      const orgId = await agedChain()
      const reports = await audit.purgeExpired()
      const mine = reports.find((r) => r.chainId === orgId)
      assert.equal(mine?.purged, 10)
      assert.equal(await count(orgId), 5)
      const anchors = await h.db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', orgId).where('kind', '=', 'anchor').execute()
      assert.equal(anchors.length, 1)
      assert.equal(Number(anchors[0].seq), 10)
      const r = await audit.verify({ chainId: orgId })
      assert.equal(r.ok, true, JSON.stringify(r.problems))

      // More events after the purge, and a second purge later, still verify.
      audit.recorder.record({ orgId, actor: { type: 'user', id: 'usr_a' }, action: 'test.after' })
      await audit.writer.flush()
      h.clock.set(new Date(start + 95 * DAY))
      await audit.purgeExpired()
      h.clock.set(new Date(start))
      assert.equal(await count(orgId), 0)
      assert.equal((await audit.verify({ chainId: orgId })).ok, true)
      audit.recorder.record({ orgId, actor: { type: 'user', id: 'usr_a' }, action: 'test.after' })
      await audit.writer.flush()
      assert.equal((await audit.verify({ chainId: orgId })).ok, true)
    })

    await t.test('tampering after a purge is still caught', async () => {
      const orgId = await agedChain()
      await audit.purgeExpired()
      const first = await h.db.selectFrom('audit_events').selectAll().where('chain_id', '=', orgId).orderBy('seq').executeTakeFirstOrThrow()
      await asAttacker(h.db, async (trx) => {
        await trx.deleteFrom('audit_events').where('id', '=', first.id).execute()
      })
      const r = await audit.verify({ chainId: orgId })
      assert.equal(r.ok, false)
      assert.equal(r.problems[0].kind, 'deleted')
    })

    await t.test('a compliance preset keeps older events', async () => {
      const org = await h.seedOrg('Clinic')
      const orgId = await agedChain(org.orgId)
      await audit.retention.set(orgId, { preset: 'hipaa' }, null)
      assert.equal(await audit.retention.retentionDays(orgId), 2557)
      await audit.purgeExpired()
      assert.equal(await count(orgId), 15)
      await audit.retention.set(orgId, { days: 150 }, null)
      await audit.purgeExpired()
      assert.equal(await count(orgId), 10)
      assert.equal((await audit.verify({ chainId: orgId })).ok, true)
    })

    await t.test('a tampered range is never purged (tampering is not laundered)', async () => {
      const orgId = await agedChain()
      const old = await h.db.selectFrom('audit_events').selectAll().where('chain_id', '=', orgId).orderBy('seq').limit(2).execute()
      await asAttacker(h.db, async (trx) => {
        await trx.updateTable('audit_events').set({ actor_id: 'usr_b' }).where('id', '=', old[1].id).execute()
      })
      const reports = await audit.purgeExpired()
      const mine = reports.find((r) => r.chainId === orgId)
      assert.equal(mine?.purged, 0)
      assert.equal(mine?.refused?.eventId, old[1].id)
      assert.equal(await count(orgId), 15)
    })

    await t.test('the retention settings refuse unknown presets and out-of-range days', async () => {
      const org = await h.seedOrg('Bank')
      await assert.rejects(audit.retention.set(org.orgId, { preset: 'forever' }, null), /Unknown retention preset/)
      await assert.rejects(audit.retention.set(org.orgId, { days: 0 }, null), /between 1 and/)
      await assert.rejects(audit.retention.set(org.orgId, { preset: 'sox', days: 3 }, null), /not both/)
      assert.equal(await audit.retention.retentionDays(org.orgId), 90)
      for (const [preset, days] of [['pci_dss', 366], ['foia', 1096], ['fdic', 1827], ['sox', 2557]] as const) {
        assert.deepEqual(await audit.retention.set(org.orgId, { preset }, null), { preset, days })
      }
    })
  })
}
