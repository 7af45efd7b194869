import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: contacts API`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const admin = await h.seedOrg('Acme')
    const masked = await h.seedOrg('Masked', ['contacts:read', 'contacts:write'])
    const call = (key: string, method: string, url: string, payload?: unknown) =>
      h.http.inject({ method: method as any, url, headers: bearer(key), ...(payload ? { payload: payload as any } : {}) })

    let jane = ''
    await t.test('creates a contact and reads it back in clear with contacts:pii', async () => {
      const r = await call(admin.liveKey, 'POST', '/v1/contacts', { email: 'Jane.Doe@Example.com', first_name: 'Jane', last_name: 'Doe', attributes: { plan: 'pro' } })
      assert.equal(r.statusCode, 201, r.body)
      const c = r.json()
      assert.match(c.id, /^con_/)
      assert.equal(c.email, 'jane.doe@example.com')
      assert.deepEqual([c.first_name, c.last_name, c.attributes, c.unsubscribed], ['Jane', 'Doe', { plan: 'pro' }, false])
      jane = c.id
      const g = await call(admin.liveKey, 'GET', `/v1/contacts/${jane}`)
      assert.equal(g.statusCode, 200)
      assert.deepEqual(g.json(), c)
    })

    await t.test('refuses a duplicate address (blind index, case-insensitive) with 409 naming the existing contact', async () => {
      const r = await call(admin.liveKey, 'POST', '/v1/contacts', { email: 'JANE.DOE@example.COM' })
      assert.equal(r.statusCode, 409)
      assert.equal(r.json().error.code, 'conflict')
      assert.equal(r.json().error.details.id, jane)
    })

    await t.test('finds a contact by email through the blind index; lists with a cursor', async () => {
      for (const e of ['a@example.com', 'b@example.com', 'c@example.com']) assert.equal((await call(admin.liveKey, 'POST', '/v1/contacts', { email: e })).statusCode, 201)
      const found = (await call(admin.liveKey, 'GET', '/v1/contacts?email=Jane.Doe%40example.com')).json()
      assert.deepEqual(found.data.map((c: any) => c.id), [jane])
      const none = (await call(admin.liveKey, 'GET', '/v1/contacts?email=nobody%40example.com')).json()
      assert.deepEqual(none.data, [])
      const p1 = (await call(admin.liveKey, 'GET', '/v1/contacts?limit=3')).json()
      assert.equal(p1.data.length, 3)
      const p2 = (await call(admin.liveKey, 'GET', `/v1/contacts?limit=3&cursor=${p1.next_cursor}`)).json()
      assert.deepEqual(p2.data.map((c: any) => c.id), [jane])
      assert.equal(p2.next_cursor, null)
    })

    await t.test('updates fields; a changed address moves the blind index', async () => {
      const r = await call(admin.liveKey, 'PATCH', `/v1/contacts/${jane}`, { email: 'jane@example.org', last_name: null, unsubscribed: true })
      assert.equal(r.statusCode, 200, r.body)
      assert.deepEqual([r.json().email, r.json().last_name, r.json().unsubscribed], ['jane@example.org', null, true])
      assert.equal((await call(admin.liveKey, 'GET', '/v1/contacts?email=jane%40example.org')).json().data.length, 1)
      assert.equal((await call(admin.liveKey, 'GET', '/v1/contacts?email=jane.doe%40example.com')).json().data.length, 0)
      const taken = await call(admin.liveKey, 'PATCH', `/v1/contacts/${jane}`, { email: 'a@example.com' })
      assert.equal(taken.statusCode, 409)
    })

    await t.test('without contacts:pii, addresses and names are masked and attributes dropped', async () => {
      const created = await call(masked.liveKey, 'POST', '/v1/contacts', { email: 'john@example.com', first_name: 'John', attributes: { x: 'y' } })
      assert.equal(created.statusCode, 201)
      const c = created.json()
      assert.equal(c.email, 'j***@example.com')
      assert.equal(c.first_name, 'J***')
      assert.equal('attributes' in c, false)
      const list = (await call(masked.liveKey, 'GET', '/v1/contacts')).json()
      assert.equal(list.data[0].email, 'j***@example.com')
      assert.ok(!JSON.stringify(list).includes('john'))
      const exp = await call(masked.liveKey, 'GET', `/v1/contacts/${c.id}/export`)
      assert.equal(exp.statusCode, 403, 'the GDPR export is PII: it needs contacts:pii')
    })

    await t.test('exports everything stored about a contact (GDPR), in clear', async () => {
      const r = await call(admin.liveKey, 'GET', `/v1/contacts/${jane}/export`)
      assert.equal(r.statusCode, 200)
      assert.match(String(r.headers['content-disposition']), /attachment; filename="con_/)
      const e = r.json()
      assert.equal(e.format, 'sealpost.contact-export.v1')
      assert.equal(e.contact.email, 'jane@example.org')
      assert.deepEqual(e.contact.attributes, { plan: 'pro' })
    })

    await t.test('DELETE crypto-shreds: the key is destroyed, the row is gone, the address is free again', async () => {
      const before = await h.db.selectFrom('crypto_deks').select('id').where('subject_id', '=', jane).execute()
      assert.equal(before.length, 1)
      const d = await call(admin.liveKey, 'DELETE', `/v1/contacts/${jane}`)
      assert.equal(d.statusCode, 204)
      assert.equal((await h.db.selectFrom('crypto_deks').select('id').where('subject_id', '=', jane).execute()).length, 0)
      assert.equal((await call(admin.liveKey, 'GET', `/v1/contacts/${jane}`)).statusCode, 404)
      assert.equal((await call(admin.liveKey, 'DELETE', `/v1/contacts/${jane}`)).statusCode, 404)
      assert.equal((await call(admin.liveKey, 'POST', '/v1/contacts', { email: 'jane@example.org' })).statusCode, 201)
    })
  })
}
