import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: API key authentication`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()

    await t.test('health is public', async () => {
      const r = await h.http.inject({ method: 'GET', url: '/healthz' })
      assert.equal(r.statusCode, 200)
    })
    await t.test('readyz checks the database', async () => {
      const r = await h.http.inject({ method: 'GET', url: '/readyz' })
      assert.equal(r.statusCode, 200)
    })
    await t.test('unknown route is a JSON 404', async () => {
      const r = await h.http.inject({ method: 'GET', url: '/v1/nothing', headers: bearer(org.liveKey) })
      assert.equal(r.statusCode, 404)
      assert.equal(r.json().error.code, 'not_found')
    })
    await t.test('refuses a key in the query string with 400', async () => {
      const r = await h.http.inject({ method: 'GET', url: `/healthz?api_key=${org.liveKey}` })
      assert.equal(r.statusCode, 400)
      assert.equal(r.json().error.code, 'key_in_query')
      assert.ok(!r.body.includes(org.liveKey))
    })
  })
}
