/**
 * Finding 9 (second half) and finding 10 (existence oracle): a contact marked unsubscribed is
 * never mailed; a contacts:read key without contacts:pii cannot ask whether an address is a contact.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createKey } from '../../src/keys/service.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: contact privacy at send time and in search`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const other = await h.seedOrg('Other')
    await h.seedDomain(org.orgId, 'acme.test')
    await h.seedDomain(other.orgId, 'other.test')
    const call = (key: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      h.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) })
    const send = (key: string, from: string, to: string[], over: object = {}) => call(key, 'POST', '/v1/messages', { from, to, subject: 'Hi', text: 'Hi', ...over })
    const recipientsOf = async (id: string) => {
      const m = (await call(org.liveKey, 'GET', `/v1/messages/${id}`)).json()
      return { to: m.to, cc: m.cc, bcc: m.bcc, status: m.status, events: m.events.map((e: { type: string }) => e.type) }
    }

    await t.test('a contact created with unsubscribed: true is dropped at send time like a suppressed address', async () => {
      assert.equal((await call(org.liveKey, 'POST', '/v1/contacts', { email: 'Opted.Out@Example.com', unsubscribed: true })).statusCode, 201)
      assert.equal((await call(org.liveKey, 'POST', '/v1/contacts', { email: 'still.in@example.com' })).statusCode, 201)
      const r = await send(org.liveKey, 'news@acme.test', ['opted.out@example.com', 'still.in@example.com'], { bcc: ['OPTED.OUT@example.com'] })
      assert.equal(r.statusCode, 202, r.body)
      assert.deepEqual(await recipientsOf(r.json().id), { to: ['still.in@example.com'], cc: [], bcc: [], status: 'queued', events: ['suppressed', 'queued'] })
      const jobs = await h.db.selectFrom('delivery_jobs').select('id').where('message_id', '=', r.json().id).execute()
      assert.equal(jobs.length, 1)
      const alone = await send(org.liveKey, 'news@acme.test', ['opted.out@example.com'])
      assert.equal(alone.json().status, 'suppressed')
    })

    await t.test('unsubscribing a contact later (PATCH) takes effect on the next send; resubscribing undoes it', async () => {
      const c = (await call(org.liveKey, 'POST', '/v1/contacts', { email: 'later@example.com' })).json()
      assert.equal((await send(org.liveKey, 'news@acme.test', ['later@example.com'])).json().status, 'queued')
      assert.equal((await call(org.liveKey, 'PATCH', `/v1/contacts/${c.id}`, { unsubscribed: true })).statusCode, 200)
      assert.equal((await send(org.liveKey, 'news@acme.test', ['later@example.com'])).json().status, 'suppressed')
      assert.equal((await call(org.liveKey, 'PATCH', `/v1/contacts/${c.id}`, { unsubscribed: false })).statusCode, 200)
      assert.equal((await send(org.liveKey, 'news@acme.test', ['later@example.com'])).json().status, 'queued')
    })

    await t.test('a test key cannot opt a live recipient out: its unsubscribed contact is a test contact, live mail still goes', async () => {
      assert.equal((await call(org.testKey, 'POST', '/v1/contacts', { email: 'sandbox.optout@example.com', unsubscribed: true })).statusCode, 201)
      assert.equal((await send(org.liveKey, 'news@acme.test', ['sandbox.optout@example.com'])).json().status, 'queued')
      // The test environment itself honours it.
      assert.equal((await send(org.testKey, 'news@acme.test', ['sandbox.optout@example.com'])).json().status, 'suppressed')
    })

    await t.test("another organization's unsubscribed contact does not stop this organization's mail", async () => {
      assert.equal((await send(other.liveKey, 'hello@other.test', ['opted.out@example.com'])).json().status, 'queued')
    })

    await t.test('finding 10: filtering by email needs contacts:pii (403), so a reader cannot test whether an address is a contact', async () => {
      const reader = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'reader', environment: 'live', scopes: ['contacts:read'] })
      for (const address of ['still.in@example.com', 'nobody@example.com', 'not-an-address']) {
        const r = await call(reader.secret, 'GET', `/v1/contacts?email=${encodeURIComponent(address)}`)
        assert.equal(r.statusCode, 403, address)
        assert.deepEqual(r.json().error, { code: 'insufficient_scope', message: 'Filtering contacts by email address needs the contacts:pii scope.', details: { required: ['contacts:pii'] } })
      }
      // Listing without the filter still works, masked.
      const list = await call(reader.secret, 'GET', '/v1/contacts')
      assert.equal(list.statusCode, 200)
      assert.ok(list.json().data.every((c: { email: string }) => /^.\*\*\*@/.test(c.email)))
      // With contacts:pii the exact lookup works.
      const pii = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'pii', environment: 'live', scopes: ['contacts:read', 'contacts:pii'] })
      const found = await call(pii.secret, 'GET', '/v1/contacts?email=still.in%40example.com')
      assert.equal(found.statusCode, 200)
      assert.deepEqual(found.json().data.map((c: { email: string }) => c.email), ['still.in@example.com'])
    })
  })
}
