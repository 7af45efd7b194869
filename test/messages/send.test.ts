import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'

const message = (over: Record<string, unknown> = {}) => ({
  from: 'Acme Billing <billing@acme.test>',
  to: ['alice@example.com'],
  subject: 'Your invoice',
  text: 'Hello Alice',
  html: '<p>Hello <b>Alice</b></p>',
  tags: ['invoice'],
  ...over,
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: send API`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const other = await h.seedOrg('Other')
    await h.seedDomain(other.orgId, 'other.test')
    const send = (key: string, body: unknown, headers: Record<string, string> = {}) =>
      h.http.inject({ method: 'POST', url: '/v1/messages', headers: { ...bearer(key), ...headers }, payload: body as object })

    await t.test('accepts a message with 202 and its id, and it is readable with its events', async () => {
      const r = await send(org.liveKey, message())
      assert.equal(r.statusCode, 202, r.body)
      const { id, status } = r.json()
      assert.match(id, /^msg_/)
      assert.equal(status, 'queued')
      const g = await h.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: bearer(org.liveKey) })
      assert.equal(g.statusCode, 200)
      const m = g.json()
      assert.equal(m.subject, 'Your invoice')
      assert.deepEqual(m.to, ['alice@example.com'])
      assert.equal(m.from, 'billing@acme.test')
      assert.deepEqual(m.events.map((e: any) => e.type), ['queued'])
    })

    await t.test('refuses a from address outside the organization\'s domains with 403', async () => {
      const r = await send(org.liveKey, message({ from: 'ceo@other.test' }))
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'domain_not_allowed')
    })

    await t.test('reports what the HTML sanitizer removed', async () => {
      const r = await send(org.liveKey, message({ html: '<p onclick="x()">Hi</p><script>alert(1)</script>' }))
      assert.equal(r.statusCode, 202, r.body)
      const removed = r.json().html_removed.map((x: any) => x.name)
      assert.ok(removed.includes('script'), JSON.stringify(r.json()))
    })

    await t.test('refuses unknown fields, missing body and bad addresses with 400 and details', async () => {
      const unknown = await send(org.liveKey, message({ priority: 'high' }))
      assert.equal(unknown.statusCode, 400)
      assert.equal(unknown.json().error.code, 'invalid_request')
      const nobody = await send(org.liveKey, { ...message(), text: undefined, html: undefined })
      assert.equal(nobody.statusCode, 400)
      const bad = await send(org.liveKey, message({ to: ['not-an-address'] }))
      assert.equal(bad.statusCode, 400)
      assert.equal(bad.json().error.code, 'invalid_address')
    })

    await t.test('refuses header injection in the subject', async () => {
      const r = await send(org.liveKey, message({ subject: 'x\r\nBcc: victim@evil.test' }))
      assert.equal(r.statusCode, 400)
      assert.ok(!r.body.includes('victim@evil.test'))
    })

    await t.test('Idempotency-Key: same body replays the same response, a different body is 409', async () => {
      const first = await send(org.liveKey, message(), { 'idempotency-key': 'order-1234' })
      assert.equal(first.statusCode, 202)
      const again = await send(org.liveKey, message(), { 'idempotency-key': 'order-1234' })
      assert.equal(again.statusCode, 202)
      assert.equal(again.json().id, first.json().id)
      assert.equal(again.headers['idempotent-replayed'], 'true')
      const changed = await send(org.liveKey, message({ subject: 'Other' }), { 'idempotency-key': 'order-1234' })
      assert.equal(changed.statusCode, 409)
      assert.equal(changed.json().error.code, 'idempotency_conflict')
      // Another organization's identical key is its own.
      const theirs = await send(other.liveKey, message({ from: 'a@other.test' }), { 'idempotency-key': 'order-1234' })
      assert.equal(theirs.statusCode, 202)
      assert.notEqual(theirs.json().id, first.json().id)
    })

    await t.test('concurrent requests with one Idempotency-Key create one message', async () => {
      const rs = await Promise.all(Array.from({ length: 8 }, () => send(org.liveKey, message({ subject: 'race' }), { 'idempotency-key': 'race-1' })))
      const ids = new Set(rs.map((r) => r.json().id))
      assert.deepEqual(rs.map((r) => r.statusCode), Array(8).fill(202))
      assert.equal(ids.size, 1)
      const jobs = await h.db.selectFrom('messages').select('id').where('org_id', '=', org.orgId).execute()
      assert.equal(jobs.filter((j) => ids.has(j.id)).length, 1)
    })

    await t.test('batch accepts up to 500 and is refused whole when one message is bad', async () => {
      const ok = await h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(org.liveKey), payload: { messages: [message(), message({ to: 'bob@example.org' })] } })
      assert.equal(ok.statusCode, 202, ok.body)
      assert.equal(ok.json().data.length, 2)
      const before = (await h.db.selectFrom('messages').select('id').where('org_id', '=', org.orgId).execute()).length
      const bad = await h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(org.liveKey), payload: { messages: [message(), message({ to: 'nope' })] } })
      assert.equal(bad.statusCode, 400)
      assert.match(JSON.stringify(bad.json().error.details), /messages\[1\]\.to/)
      const after = (await h.db.selectFrom('messages').select('id').where('org_id', '=', org.orgId).execute()).length
      assert.equal(after, before)
      const tooMany = await h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(org.liveKey), payload: { messages: Array(501).fill(message()) } })
      assert.equal(tooMany.statusCode, 400)
    })

    await t.test('scheduled messages report send_at and status scheduled', async () => {
      const at = new Date(h.clock.now().getTime() + 3600_000).toISOString()
      const r = await send(org.liveKey, message({ send_at: at }))
      assert.equal(r.statusCode, 202)
      assert.equal(r.json().status, 'scheduled')
      assert.equal(r.json().send_at, at)
    })

    await t.test('lists newest first with a cursor and filters', async () => {
      const page1 = await h.http.inject({ method: 'GET', url: '/v1/messages?limit=2', headers: bearer(org.liveKey) })
      assert.equal(page1.statusCode, 200)
      const p1 = page1.json()
      assert.equal(p1.data.length, 2)
      assert.ok(p1.data[0].id > p1.data[1].id)
      const page2 = await h.http.inject({ method: 'GET', url: `/v1/messages?limit=2&cursor=${p1.next_cursor}`, headers: bearer(org.liveKey) })
      assert.ok(page2.json().data.every((m: any) => m.id < p1.data[1].id))
      const scheduled = await h.http.inject({ method: 'GET', url: '/v1/messages?status=scheduled', headers: bearer(org.liveKey) })
      assert.ok(scheduled.json().data.length >= 1)
      assert.ok(scheduled.json().data.every((m: any) => m.status === 'scheduled'))
      const tagged = await h.http.inject({ method: 'GET', url: '/v1/messages?tag=invoice', headers: bearer(org.liveKey) })
      assert.ok(tagged.json().data.length >= 1)
    })

    await t.test('another organization reading a message gets 404, like a missing id', async () => {
      const { id } = (await send(org.liveKey, message())).json()
      const theirs = await h.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: bearer(other.liveKey) })
      const missing = await h.http.inject({ method: 'GET', url: `/v1/messages/msg_00000000000000000000000000`, headers: bearer(other.liveKey) })
      assert.equal(theirs.statusCode, 404)
      assert.deepEqual(theirs.json(), missing.json())
      const list = await h.http.inject({ method: 'GET', url: '/v1/messages', headers: bearer(other.liveKey) })
      assert.ok(!list.json().data.some((m: any) => m.id === id))
    })

    await t.test('a test key\'s message is stored and queued like a live one (the worker sandboxes it)', async () => {
      const r = await send(org.testKey, message())
      assert.equal(r.statusCode, 202)
      const g = await h.http.inject({ method: 'GET', url: `/v1/messages/${r.json().id}`, headers: bearer(org.testKey) })
      assert.equal(g.json().environment, 'test')
    })
  })
}
