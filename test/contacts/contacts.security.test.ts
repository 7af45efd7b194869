import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { isCryptoError } from '../../src/crypto/errors.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: contacts attacks`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const a = await h.seedOrg('A')
    const b = await h.seedOrg('B')
    const readOnly = await h.seedOrg('R', ['contacts:read', 'contacts:pii'])
    const noScopes = await h.seedOrg('N', ['messages:send'])
    const call = (key: string, method: string, url: string, payload?: unknown) =>
      h.http.inject({ method: method as any, url, headers: bearer(key), ...(payload ? { payload: payload as any } : {}) })
    const mine = (await call(a.liveKey, 'POST', '/v1/contacts', { email: 'victim@example.com', first_name: 'Vic' })).json()

    await t.test("another organization's contact id behaves as a missing one (404) for every verb", async () => {
      const missing = mine.id.slice(0, -4) + 'zzzz'
      for (const [method, url, body] of [
        ['GET', `/v1/contacts/${mine.id}`], ['GET', `/v1/contacts/${mine.id}/export`],
        ['PATCH', `/v1/contacts/${mine.id}`, { first_name: 'x' }], ['DELETE', `/v1/contacts/${mine.id}`],
      ] as const) {
        const other = await call(b.liveKey, method, url, body)
        const gone = await call(a.liveKey, method, url.replace(mine.id, missing), body)
        assert.equal(other.statusCode, 404, `${method} ${url}`)
        assert.deepEqual(other.json(), gone.json())
      }
      const list = (await call(b.liveKey, 'GET', '/v1/contacts?email=victim%40example.com')).json()
      assert.deepEqual(list.data, [], 'the blind index is per organization')
      assert.equal((await call(a.liveKey, 'GET', `/v1/contacts/${mine.id}`)).json().first_name, 'Vic', 'untouched by B')
    })

    await t.test('scopes: no credentials 401, missing scope 403, read-only key cannot write', async () => {
      assert.equal((await h.http.inject({ method: 'GET', url: '/v1/contacts' })).statusCode, 401)
      assert.equal((await call(noScopes.liveKey, 'GET', '/v1/contacts')).statusCode, 403)
      assert.equal((await call(readOnly.liveKey, 'POST', '/v1/contacts', { email: 'x@example.com' })).statusCode, 403)
      assert.equal((await call(readOnly.liveKey, 'DELETE', `/v1/contacts/${mine.id}`)).statusCode, 403)
    })

    await t.test('bad input is 400, never 500: unknown fields, bad address, header injection, oversized attributes, bad ids', async () => {
      const cases: [string, string, unknown][] = [
        ['POST', '/v1/contacts', { email: 'x@example.com', org_id: b.orgId }],
        ['POST', '/v1/contacts', { email: 'not-an-address' }],
        ['POST', '/v1/contacts', { email: 'x@example.com\r\nBcc: evil@example.com' }],
        ['POST', '/v1/contacts', { email: 'y@example.com', first_name: 'Eve\r\nBcc: x@y.z' }],
        ['POST', '/v1/contacts', { email: 'z@example.com', attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
        ['GET', "/v1/contacts/con_' OR 1=1 --", undefined],
        ['GET', '/v1/contacts?email=%27%20OR%201%3D1', undefined],
        ['PATCH', `/v1/contacts/${mine.id}`, {}],
      ]
      for (const [method, url, body] of cases) {
        const r = await call(a.liveKey, method, url, body)
        assert.ok(r.statusCode === 400 || (r.statusCode === 200 && method === 'GET'), `${method} ${url} → ${r.statusCode} ${r.body}`)
        if (r.statusCode === 200) assert.deepEqual(r.json().data, [])
      }
    })

    await t.test('a ciphertext copied from one contact row to another does not decrypt', async () => {
      const other = (await call(a.liveKey, 'POST', '/v1/contacts', { email: 'other@example.com' })).json()
      const src = await h.db.selectFrom('contacts').select('email').where('id', '=', mine.id).executeTakeFirstOrThrow()
      await h.db.updateTable('contacts').set({ email: src.email }).where('id', '=', other.id).execute()
      const r = await call(a.liveKey, 'GET', `/v1/contacts/${other.id}`)
      assert.equal(r.statusCode, 500)
      assert.equal(r.json().error.code, 'internal')
      assert.ok(!r.body.includes('victim'))
      await assert.rejects(h.app.envelope.decrypt({ orgId: a.orgId, table: 'contacts', column: 'email', rowId: other.id, subjectId: other.id }, src.email),
        (e) => isCryptoError(e, 'ciphertext_context_mismatch'))
    })
  })
}
