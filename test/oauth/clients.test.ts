import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { buildOAuthApp } from './helpers.ts'
import { checkRedirectUris } from '../../src/oauth/clients/redirect-uris.ts'
import { createKey } from '../../src/keys/service.ts'

test('redirect URI policy (OAuth 2.1, RFC 8252)', () => {
  assert.equal(checkRedirectUris(['https://app.example/cb'], 'web'), null)
  assert.match(checkRedirectUris(['http://app.example/cb'], 'web')!, /https/)
  assert.match(checkRedirectUris(['http://127.0.0.1/cb'], 'web')!, /https/)
  assert.equal(checkRedirectUris(['http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'com.example.app:/cb'], 'native'), null)
  assert.match(checkRedirectUris(['http://localhost/cb'], 'native')!, /loopback IP literal/)
  assert.match(checkRedirectUris(['myapp:/cb'], 'native')!, /reverse domain/)
  assert.match(checkRedirectUris(['https://*.example/cb'], 'web')!, /wildcards/)
  assert.match(checkRedirectUris(['https://app.example/cb#frag'], 'web')!, /fragment/)
  assert.match(checkRedirectUris(['/relative'], 'web')!, /absolute/)
  assert.match(checkRedirectUris(['https://user:pw@app.example/cb'], 'web')!, /credentials/)
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: /v1/oauth/clients`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const post = (body: unknown, key = h.org.liveKey) => fetch(`${h.base}/v1/oauth/clients`, {
      method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: JSON.stringify(body),
    })

    await t.test('the secret is shown once and stored only as a hash', async () => {
      const c = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      assert.match(c.client_secret, /^spcs_[A-Za-z0-9_-]{43}$/)
      const read = await (await fetch(`${h.base}/v1/oauth/clients/${c.id}`, { headers: bearer(h.org.liveKey) })).json() as any
      assert.equal(read.client_secret, undefined)
      assert.equal(read.secret_last4, c.client_secret.slice(-4))
      const row = await h.db.selectFrom('oauth_clients').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow()
      assert.ok(!JSON.stringify(row).includes(c.client_secret))
      const rotated = await (await fetch(`${h.base}/v1/oauth/clients/${c.id}/secret`, { method: 'POST', headers: bearer(h.org.liveKey) })).json() as any
      assert.notEqual(rotated.client_secret, c.client_secret)
    })

    await t.test('refuses what OAuth 2.1 forbids or the rules do not allow', async () => {
      const cases: [unknown, string][] = [
        [{ name: 'x', kind: 'confidential', grant_types: ['implicit'], scopes: ['messages:read'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['password'], scopes: ['messages:read'] }, 'invalid_request'],
        [{ name: 'x', kind: 'public', grant_types: ['client_credentials'], scopes: ['messages:read'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['authorization_code'], scopes: ['messages:read'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['authorization_code'], scopes: ['messages:read'], redirect_uris: ['http://app.example/cb'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['nope:nope'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['refresh_token'], scopes: ['messages:read'] }, 'invalid_request'],
        [{ name: 'x', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'], client_secret: 'mine' }, 'invalid_request'],
      ]
      for (const [body, code] of cases) {
        const r = await post(body)
        assert.equal(r.status, 400, JSON.stringify(body))
        assert.equal(((await r.json()) as any).error.code, code)
      }
    })

    await t.test('a caller cannot give a client scopes it does not hold', async () => {
      const limited = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: h.org.orgId, name: 'limited', environment: 'live', scopes: ['oauth:manage', 'messages:read'] })
      const r = await post({ name: 'x', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['keys:manage'] }, limited.secret)
      assert.equal(r.status, 403)
      assert.equal(((await r.json()) as any).error.code, 'insufficient_scope')
    })

    await t.test("another organization's client is not found", async () => {
      const mine = await h.createClient({ name: 'mine', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      const other = await h.seedOrg('Other')
      for (const [method, path] of [['GET', ''], ['DELETE', ''], ['POST', '/secret']]) {
        const r = await fetch(`${h.base}/v1/oauth/clients/${mine.id}${path}`, { method, headers: bearer(other.liveKey) })
        assert.equal(r.status, 404, `${method} ${path}`)
      }
      const list = await (await fetch(`${h.base}/v1/oauth/clients`, { headers: bearer(other.liveKey) })).json() as any
      assert.deepEqual(list.data, [])
    })
  })
}
