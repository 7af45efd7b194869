import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { DAY } from '../../src/core/clock.ts'
import { createKey } from '../../src/keys/service.ts'
import { idsDigest, purgeRecordProblem, recordPurge, PURGE_ACTION } from '../../src/legal-hold/purge-record.ts'

test('purge records: only a complete, consistent record is well-formed', () => {
  const ok = { what: 'messages', count: 2, cutoff: '2026-03-01T00:00:00.000Z', range: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }, ids_sha256: idsDigest(['b', 'a']) }
  assert.equal(purgeRecordProblem(JSON.stringify(ok)), null)
  assert.equal(idsDigest(['b', 'a']), idsDigest(['a', 'b']), 'order-independent: the ids are sorted')
  assert.notEqual(idsDigest(['a', 'b']), idsDigest(['a', 'c']))
  const bad = (over: object) => purgeRecordProblem(JSON.stringify({ ...ok, ...over }))
  assert.match(bad({ count: 0 })!, /count/)
  assert.match(bad({ count: 1.5 })!, /count/)
  assert.match(bad({ what: 'contacts' })!, /what/)
  assert.match(bad({ ids_sha256: 'abc' })!, /ids_sha256/)
  assert.match(bad({ cutoff: 'yesterday' })!, /cutoff/)
  assert.match(bad({ range: { from: '2026-01-03T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' } })!, /range/)
  assert.match(bad({ range: { from: '2026-01-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' } })!, /past the cutoff/)
  assert.match(bad({ what: 'audit_events' })!, /anchor/)
  assert.match(purgeRecordProblem('{')!, /JSON/)
  assert.match(purgeRecordProblem(null)!, /details/)
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: legal holds`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const other = await h.seedOrg('Other')
    const api = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      h.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) })
    const send = async (tags: string[] = []) => (await api(org.liveKey, 'POST', '/v1/messages', { from: 'a@acme.test', to: ['b@example.com'], subject: 's', text: 't', tags })).json().id as string
    const messageIds = async () => (await h.db.selectFrom('messages').select('id').where('org_id', '=', org.orgId).execute()).map((r) => r.id).sort()
    const hold = async (body: object) => {
      const r = await api(org.liveKey, 'POST', '/v1/legal-holds', { reason: 'Matter 2026-17', ...body })
      assert.equal(r.statusCode, 201, r.body)
      return r.json().id as string
    }
    const release = (id: string) => api(org.liveKey, 'DELETE', `/v1/legal-holds/${id}`)
    const purgeRecords = async (what?: string) => {
      await h.app.audit.writer.flush()
      return (await h.db.selectFrom('audit_events').select(['details', 'org_id']).where('action', '=', PURGE_ACTION).where('org_id', '=', org.orgId).orderBy('seq').execute())
        .map((r) => JSON.parse(r.details!)).filter((d) => what === undefined || d.what === what)
    }
    const actions = async (action: string) => {
      await h.app.audit.writer.flush()
      return h.db.selectFrom('audit_events').select(['target_id']).where('org_id', '=', org.orgId).where('action', '=', action).execute()
    }

    await t.test('a message hold by id and one by tag keep those messages through retention; the purge is recorded', async () => {
      const keptById = await send()
      const keptByTag = await send(['litigation'])
      const purgedA = await send(['invoice'])
      const purgedB = await send()
      const byId = await hold({ scope: 'messages', message_ids: [keptById] })
      const byTag = await hold({ scope: 'messages', tag: 'litigation' })
      assert.deepEqual((await actions('legal_hold.created')).map((r) => r.target_id).sort(), [byId, byTag].sort())
      h.clock.advance(91 * DAY)
      const fresh = await send()
      await h.app.maintenance.tick()
      assert.deepEqual(await messageIds(), [keptById, keptByTag, fresh].sort())
      const [record] = await purgeRecords('messages')
      assert.equal(record.what, 'messages')
      assert.equal(record.count, 2)
      assert.equal(record.ids_sha256, idsDigest([purgedA, purgedB]))
      assert.equal(purgeRecordProblem(JSON.stringify(record)), null)
      // Released, the held messages go at the next run.
      assert.equal((await release(byId)).statusCode, 200)
      assert.equal((await release(byTag)).statusCode, 200)
      await h.app.maintenance.tick()
      assert.deepEqual(await messageIds(), [fresh])
      const records = await purgeRecords('messages')
      assert.equal(records.length, 2)
      assert.equal(records[1].ids_sha256, idsDigest([keptById, keptByTag]))
      assert.ok((await actions('legal_hold.released')).some((r) => r.target_id === byTag))
      const verify = await h.app.audit.verify({ chainId: org.orgId })
      assert.equal(verify.ok, true, JSON.stringify(verify.problems))
    })

    await t.test('an organization hold suspends message and audit retention until released', async () => {
      const [fresh] = await messageIds()
      const old = await send()
      const orgHold = await hold({ scope: 'organization' })
      await h.app.audit.writer.flush()
      const eventsBefore = (await h.db.selectFrom('audit_events').select('id').where('org_id', '=', org.orgId).execute()).length
      h.clock.advance(200 * DAY)
      await h.app.maintenance.tick()
      assert.deepEqual(await messageIds(), [fresh, old].sort())
      await h.app.audit.writer.flush()
      const eventsAfter = await h.db.selectFrom('audit_events').select(['id', 'occurred_at']).where('org_id', '=', org.orgId).execute()
      assert.ok(eventsAfter.length >= eventsBefore, 'no audit event purged')
      const reports = await h.app.audit.purgeExpired()
      assert.deepEqual(reports.filter((r) => r.chainId === org.orgId), [{ chainId: org.orgId, purged: 0, anchorSeq: null, held: true }])
      assert.equal((await release(orgHold)).statusCode, 200)
      const again = await release(orgHold)
      assert.equal(again.statusCode, 409, 'released once only')
      await h.app.maintenance.tick()
      assert.deepEqual(await messageIds(), [])
      const records = await purgeRecords()
      const audit = records.find((r) => r.what === 'audit_events')
      assert.ok(audit, 'the audit purge is recorded too')
      assert.ok(audit.count > 0)
      assert.match(audit.anchor, /^ack_/)
      const verify = await h.app.audit.verify({ chainId: org.orgId })
      assert.equal(verify.ok, true, JSON.stringify(verify.problems))
    })

    await t.test('contact erasure is refused with 409 legal_hold while a contact or organization hold is active', async () => {
      const mk = async (email: string) => (await api(org.liveKey, 'POST', '/v1/contacts', { email })).json().id as string
      const held = await mk('held@example.com')
      const free = await mk('free@example.com')
      const h1 = await hold({ scope: 'contact', contact_id: held })
      const refused = await api(org.liveKey, 'DELETE', `/v1/contacts/${held}`)
      assert.equal(refused.statusCode, 409)
      assert.equal(refused.json().error.code, 'legal_hold')
      assert.equal((await api(org.liveKey, 'GET', `/v1/contacts/${held}`)).statusCode, 200, 'still there, still readable')
      const orgHold = await hold({ scope: 'organization' })
      assert.equal((await api(org.liveKey, 'DELETE', `/v1/contacts/${free}`)).json().error?.code, 'legal_hold')
      await release(orgHold)
      assert.equal((await api(org.liveKey, 'DELETE', `/v1/contacts/${free}`)).statusCode, 204)
      await release(h1)
      assert.equal((await api(org.liveKey, 'DELETE', `/v1/contacts/${held}`)).statusCode, 204)
    })

    await t.test('GET lists active holds (released on request); bad targets are 400', async () => {
      const id = await hold({ scope: 'messages', tag: 'q3' })
      const active = (await api(org.liveKey, 'GET', '/v1/legal-holds')).json().data
      assert.deepEqual(active.map((x: any) => x.id), [id])
      const all = (await api(org.liveKey, 'GET', '/v1/legal-holds?include_released=true')).json().data
      assert.ok(all.length > 1 && all.some((x: any) => x.released_at !== null))
      for (const body of [
        { scope: 'messages' }, { scope: 'messages', tag: 'a', message_ids: ['msg_01jd0000000000000000000000'] },
        { scope: 'contact' }, { scope: 'organization', tag: 'x' }, { scope: 'messages', tag: 'bad tag' }, { scope: 'everything' },
      ]) {
        const r = await api(org.liveKey, 'POST', '/v1/legal-holds', { reason: 'r', ...body })
        assert.equal(r.statusCode, 400, JSON.stringify(body))
      }
      await release(id)
    })

    await t.test('another org cannot see or release a hold; org:admin is required', async () => {
      const id = await hold({ scope: 'organization' })
      assert.equal((await api(other.liveKey, 'DELETE', `/v1/legal-holds/${id}`)).statusCode, 404)
      assert.deepEqual((await api(other.liveKey, 'GET', '/v1/legal-holds')).json().data, [])
      const narrow = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'n', environment: 'live', scopes: ['contacts:write', 'messages:send'] })
      assert.equal((await api(narrow.secret, 'DELETE', `/v1/legal-holds/${id}`)).statusCode, 403)
      assert.equal((await api(narrow.secret, 'POST', '/v1/legal-holds', { reason: 'r', scope: 'organization' })).statusCode, 403)
      assert.equal((await api(narrow.secret, 'GET', '/v1/legal-holds')).statusCode, 403)
      assert.equal((await api(org.liveKey, 'GET', '/v1/legal-holds')).json().data.length, 1, 'still active')
      await release(id)
    })

    await t.test('audit verify flags a malformed purge record, even one correctly chained', async () => {
      assert.equal((await h.app.audit.verify({ chainId: org.orgId })).ok, true)
      // Written through the writer, so correctly hashed and chained: only the purge-record check can notice.
      const [good] = await purgeRecords('messages')
      recordPurge(h.app.audit.writer, org.orgId, h.clock.now(), { ...good, range: { from: good.range.from, to: '2099-01-01T00:00:00.000Z' } })
      await h.app.audit.writer.flush()
      const verify = await h.app.audit.verify({ chainId: org.orgId })
      assert.equal(verify.ok, false)
      assert.deepEqual(verify.problems.map((p) => p.kind), ['bad_purge_record'])
      assert.match(verify.problems[0].message, /past the cutoff/)
    })
  })
}
