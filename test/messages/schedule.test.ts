import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { HOUR, DAY } from '../../src/core/clock.ts'
import { createKey } from '../../src/keys/service.ts'

const message = (over: Record<string, unknown> = {}) => ({
  from: 'billing@acme.test', to: ['alice@example.com', 'bob@example.org'], subject: 'Later', text: 'Hi', ...over,
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: scheduled messages`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const other = await h.seedOrg('Other')
    const iso = (ms: number) => new Date(h.clock.now().getTime() + ms).toISOString()
    const schedule = async (key: string, inMs: number) => {
      const r = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(key), payload: message({ send_at: iso(inMs) }) })
      assert.equal(r.statusCode, 202, r.body)
      return r.json().id as string
    }
    const cancel = (key: string, id: string) => h.http.inject({ method: 'POST', url: `/v1/messages/${id}/cancel`, headers: bearer(key) })
    const patch = (key: string, id: string, sendAt: string) =>
      h.http.inject({ method: 'PATCH', url: `/v1/messages/${id}`, headers: bearer(key), payload: { send_at: sendAt } })
    const get = async (id: string) => (await h.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: bearer(org.liveKey) })).json()
    /** Claims every due job, returns those of `id`, and hands the others back. */
    const claimFor = async (id: string) => {
      const jobs = await h.app.queue.claim({ limit: 100 })
      for (const j of jobs.filter((j) => j.messageId !== id)) await h.app.queue.release(j, h.clock.now().getTime() + 365 * DAY)
      return jobs.filter((j) => j.messageId === id)
    }
    const jobsOf = async (id: string) => h.db.selectFrom('delivery_jobs').selectAll().where('message_id', '=', id).execute()
    const auditActions = async (id: string) => {
      await h.app.audit.writer.flush()
      const rows = await h.db.selectFrom('audit_events').select(['action']).where('target_id', '=', id).execute()
      return rows.map((r) => r.action)
    }

    await t.test('is held until send_at: not claimed before, claimed after', async () => {
      const id = await schedule(org.liveKey, 2 * HOUR)
      assert.deepEqual(await claimFor(id), [])
      h.clock.advance(2 * HOUR - 1000)
      assert.deepEqual(await claimFor(id), [], 'one second before send_at')
      h.clock.advance(1000)
      const jobs = await claimFor(id)
      assert.equal(jobs.length, 2, 'one job per recipient domain, both due at send_at')
      for (const j of jobs) await h.app.queue.release(j, h.clock.now().getTime() + 365 * DAY)
    })

    await t.test('cancel removes the jobs and marks the message canceled, audited', async () => {
      const id = await schedule(org.liveKey, HOUR)
      const r = await cancel(org.liveKey, id)
      assert.equal(r.statusCode, 200, r.body)
      assert.equal(r.json().status, 'canceled')
      assert.deepEqual(await jobsOf(id), [])
      const m = await get(id)
      assert.equal(m.status, 'canceled')
      assert.ok(m.events.some((e: any) => e.type === 'canceled'))
      h.clock.advance(2 * HOUR)
      assert.deepEqual(await claimFor(id), [], 'never sent after its send_at')
      assert.ok((await auditActions(id)).includes('message.canceled'))
      const again = await cancel(org.liveKey, id)
      assert.equal(again.statusCode, 409)
      assert.equal(again.json().error.code, 'conflict')
    })

    await t.test('reschedule moves send_at and the jobs; audited', async () => {
      const id = await schedule(org.liveKey, HOUR)
      const later = iso(5 * HOUR)
      const r = await patch(org.liveKey, id, later)
      assert.equal(r.statusCode, 200, r.body)
      assert.equal(r.json().send_at, later)
      assert.equal((await get(id)).send_at, later)
      h.clock.advance(2 * HOUR)
      assert.deepEqual(await claimFor(id), [], 'old send_at no longer releases it')
      h.clock.advance(3 * HOUR)
      const jobs = await claimFor(id)
      assert.equal(jobs.length, 2)
      for (const j of jobs) await h.app.queue.release(j, h.clock.now().getTime() + 365 * DAY)
      assert.ok((await auditActions(id)).includes('message.rescheduled'))
    })

    await t.test('reschedule keeps the 30-day rule and refuses the past', async () => {
      const id = await schedule(org.liveKey, HOUR)
      const far = await patch(org.liveKey, id, iso(31 * DAY))
      assert.equal(far.statusCode, 400)
      assert.equal(far.json().error.details[0].message, 'too far ahead')
      const past = await patch(org.liveKey, id, iso(-HOUR))
      assert.equal(past.statusCode, 400)
      const junk = await patch(org.liveKey, id, 'tomorrow')
      assert.equal(junk.statusCode, 400)
      const extra = await h.http.inject({ method: 'PATCH', url: `/v1/messages/${id}`, headers: bearer(org.liveKey), payload: { send_at: iso(2 * HOUR), subject: 'x' } })
      assert.equal(extra.statusCode, 400)
      assert.equal(Number((await jobsOf(id))[0].run_at), Date.parse(iso(HOUR)), 'nothing moved')
    })

    await t.test('once a worker claimed it, cancel and reschedule are 409 and the job stays', async () => {
      const id = await schedule(org.liveKey, HOUR)
      h.clock.advance(HOUR)
      const jobs = await claimFor(id)
      assert.equal(jobs.length, 2)
      const c = await cancel(org.liveKey, id)
      assert.equal(c.statusCode, 409, c.body)
      const p = await patch(org.liveKey, id, iso(3 * HOUR))
      assert.equal(p.statusCode, 409, p.body)
      assert.equal((await jobsOf(id)).length, 2, 'the claimed jobs are untouched')
      assert.equal((await get(id)).status, 'scheduled')
      for (const j of jobs) await h.app.queue.release(j, h.clock.now().getTime() + 365 * DAY)
    })

    await t.test('one claimed job of two is enough to refuse: nothing is half-canceled', async () => {
      const id = await schedule(org.liveKey, HOUR)
      const [first] = await jobsOf(id)
      await h.db.updateTable('delivery_jobs').set({ attempts: 1, lease_owner: 'w', lease_until: h.clock.now().getTime() + HOUR }).where('id', '=', first.id).execute()
      assert.equal((await cancel(org.liveKey, id)).statusCode, 409)
      assert.equal((await jobsOf(id)).length, 2, 'the unclaimed job was restored by the rollback')
      assert.equal((await get(id)).status, 'scheduled')
      assert.equal((await patch(org.liveKey, id, iso(3 * HOUR))).statusCode, 409)
      const runAts = (await jobsOf(id)).map((j) => Number(j.run_at))
      assert.deepEqual(runAts, [Date.parse(iso(HOUR)), Date.parse(iso(HOUR))])
    })

    await t.test('an immediate message is not cancellable', async () => {
      const r = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: message() })
      const id = r.json().id
      assert.equal((await cancel(org.liveKey, id)).statusCode, 409)
      assert.equal((await jobsOf(id)).length, 2)
    })

    await t.test('another org gets 404, a test key cannot touch a live message, a read-only key is 403', async () => {
      const id = await schedule(org.liveKey, HOUR)
      assert.equal((await cancel(other.liveKey, id)).statusCode, 404)
      assert.equal((await patch(other.liveKey, id, iso(2 * HOUR))).statusCode, 404)
      assert.equal((await cancel(org.testKey, id)).statusCode, 404)
      assert.equal((await patch(org.testKey, id, iso(2 * HOUR))).statusCode, 404)
      const ro = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'ro', environment: 'live', scopes: ['messages:read'] })
      const denied = await cancel(ro.secret, id)
      assert.equal(denied.statusCode, 403)
      assert.equal(denied.json().error.code, 'insufficient_scope')
      assert.equal((await patch(ro.secret, id, iso(2 * HOUR))).statusCode, 403)
      assert.equal((await jobsOf(id)).length, 2)
      assert.equal((await get(id)).status, 'scheduled')
      // The test key can cancel its own test message.
      const own = await schedule(org.testKey, HOUR)
      assert.equal((await cancel(org.testKey, own)).statusCode, 200)
    })
  })
}
