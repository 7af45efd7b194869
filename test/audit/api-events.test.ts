import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: audit events for API calls and admin actions`, { skip }, async (t) => {
    const logs: string[] = []
    const logStream = new PassThrough()
    logStream.on('data', (c) => logs.push(String(c)))
    const h = await buildTestApp({ dialect: name, logStream })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const other = await h.seedOrg('Other')
    const audit = h.app.audit
    const events = async (orgId: string) => {
      await audit.writer.flush()
      return h.db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId).orderBy('seq').execute()
    }

    await t.test('every API call leaves one event with its request context', async () => {
      const r = await h.http.inject({
        method: 'GET', url: '/v1/keys?limit=5', remoteAddress: '203.0.113.9',
        headers: { ...bearer(org.liveKey), 'user-agent': 'sealpost-test/1.0', 'x-request-id': 'req-audit-0001' },
      })
      assert.equal(r.statusCode, 200)
      const rows = await events(org.orgId)
      const e = rows.find((x) => x.request_id === 'req-audit-0001')!
      assert.ok(e)
      assert.equal(e.action, 'api.request')
      assert.equal(e.actor_type, 'key')
      assert.equal(e.actor_id, org.liveKeyId)
      assert.equal(e.method, 'GET')
      assert.equal(e.route, '/v1/keys')
      assert.equal(e.path, '/v1/keys')
      assert.equal(e.status, 200)
      assert.equal(e.ip, '203.0.113.9')
      assert.equal(e.user_agent, 'sealpost-test/1.0')
      assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.equal(typeof e.duration_ms, 'number')
      assert.deepEqual(JSON.parse(e.details!).request.query, { limit: '5' })
    })

    await t.test('a 401 records the reason, never the credential, in the system chain', async () => {
      const forged = org.liveKey.slice(0, -8) + 'AAAAAAAA'
      const r = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { ...bearer(forged), 'x-request-id': 'req-audit-0401' } })
      assert.equal(r.statusCode, 401)
      await audit.writer.flush()
      const e = await h.db.selectFrom('audit_events').selectAll().where('request_id', '=', 'req-audit-0401').executeTakeFirstOrThrow()
      assert.equal(e.chain_id, '_system')
      assert.equal(e.org_id, null)
      assert.equal(e.status, 401)
      assert.ok(e.auth_failure && ['bad_key_checksum', 'unknown_key'].includes(e.auth_failure), String(e.auth_failure))
      assert.ok(!JSON.stringify(e).includes(forged))
    })

    await t.test('admin actions recorded by other domains join the same chain', async () => {
      const r = await h.http.inject({ method: 'POST', url: '/v1/keys', headers: bearer(org.liveKey), payload: { name: 'ci', scopes: ['messages:send'], environment: 'live' } })
      assert.equal(r.statusCode, 201)
      const rows = await events(org.orgId)
      const created = rows.find((x) => x.action !== 'api.request')
      assert.ok(created, 'the key service recorded an admin event')
      assert.equal(created!.actor_id, org.liveKeyId)
      assert.equal((await audit.verify({ chainId: org.orgId })).ok, true)
    })

    await t.test('GET /v1/audit-events filters, pages with a cursor, and stays inside the organization', async () => {
      for (let i = 0; i < 5; i++) await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(org.liveKey) })
      await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(other.liveKey) })
      await audit.writer.flush()
      const page1 = await h.http.inject({ method: 'GET', url: '/v1/audit-events?action=api.request&status=200&limit=3', headers: bearer(org.liveKey) })
      assert.equal(page1.statusCode, 200)
      const b1 = page1.json()
      assert.equal(b1.data.length, 3)
      assert.ok(b1.nextCursor)
      assert.ok(b1.data.every((e: any) => e.orgId === org.orgId && e.status === 200 && e.action === 'api.request'))
      const page2 = await h.http.inject({ method: 'GET', url: `/v1/audit-events?action=api.request&status=200&limit=3&cursor=${b1.nextCursor}`, headers: bearer(org.liveKey) })
      const b2 = page2.json()
      assert.ok(b2.data.length > 0)
      assert.ok(b2.data[0].seq < b1.data[2].seq)
      const byActor = await h.http.inject({ method: 'GET', url: `/v1/audit-events?actor=${other.liveKeyId}`, headers: bearer(org.liveKey) })
      assert.deepEqual(byActor.json().data, [])
      const future = await h.http.inject({ method: 'GET', url: `/v1/audit-events?since=${new Date(h.clock.now().getTime() + 60_000).toISOString()}`, headers: bearer(org.liveKey) })
      assert.deepEqual(future.json().data, [])
    })

    await t.test('bad filters and cursors are 400, unknown parameters too', async () => {
      for (const q of ['cursor=bm9wZQ', 'status=abc', 'since=yesterday', 'limit=1000', 'unknown=1']) {
        const r = await h.http.inject({ method: 'GET', url: `/v1/audit-events?${q}`, headers: bearer(org.liveKey) })
        assert.equal(r.statusCode, 400, q)
        assert.equal(r.json().error.code, 'invalid_request')
      }
    })

    await t.test('reading the audit log needs audit:read', async () => {
      const limited = await h.seedOrg('Limited', ['messages:send'])
      const r = await h.http.inject({ method: 'GET', url: '/v1/audit-events', headers: bearer(limited.liveKey) })
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'insufficient_scope')
    })

    await t.test('export streams JSON Lines, optionally with US timestamps, and is itself audited', async () => {
      await audit.writer.flush()
      const r = await h.http.inject({ method: 'GET', url: '/v1/audit-events/export?timeFormat=us', headers: bearer(org.liveKey) })
      assert.equal(r.statusCode, 200)
      assert.match(String(r.headers['content-type']), /application\/x-ndjson/)
      const lines = r.body.trim().split('\n').map((l) => JSON.parse(l))
      assert.ok(lines.length >= 8)
      assert.ok(lines.every((e) => e.orgId === org.orgId))
      assert.ok(lines.every((e) => /^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/.test(e.timestamp)))
      for (let i = 1; i < lines.length; i++) assert.ok(lines[i].seq > lines[i - 1].seq)
      const rows = await events(org.orgId)
      assert.ok(rows.some((x) => x.action === 'audit.exported'))
    })

    await t.test('retention is read with audit:read and changed by org:admin, and the change is audited', async () => {
      const get = await h.http.inject({ method: 'GET', url: '/v1/audit/retention', headers: bearer(org.liveKey) })
      assert.deepEqual(get.json(), { preset: 'default', days: 90 })
      const put = await h.http.inject({ method: 'PUT', url: '/v1/audit/retention', headers: bearer(org.liveKey), payload: { preset: 'pci_dss' } })
      assert.deepEqual(put.json(), { preset: 'pci_dss', days: 366 })
      const bad = await h.http.inject({ method: 'PUT', url: '/v1/audit/retention', headers: bearer(org.liveKey), payload: { preset: 'forever' } })
      assert.equal(bad.statusCode, 400)
      const rows = await events(org.orgId)
      assert.ok(rows.some((x) => x.action === 'audit.retention_changed'))
    })

    await t.test('probes are not audited', async () => {
      await h.http.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-audit-probe' } })
      await audit.writer.flush()
      assert.equal(await h.db.selectFrom('audit_events').select('id').where('request_id', '=', 'req-audit-probe').executeTakeFirst(), undefined)
    })

    await t.test('the whole log verifies and nothing was lost on close', async () => {
      for (let i = 0; i < 7; i++) await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { ...bearer(org.liveKey), 'x-request-id': `req-close-${i}xxx` } })
      await h.app.audit.writer.flush()
      const r = await audit.verify()
      assert.equal(r.ok, true, JSON.stringify(r.problems))
      assert.equal(logs.length > 0, true)
    })
  })
}
