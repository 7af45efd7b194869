import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from './helpers.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: client credentials`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const created = await h.createClient({ name: 'reporter', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage', 'messages:read'] })
    assert.match(created.client_secret, /^spcs_/)
    const config = await h.discover(created.id, created.client_secret)

    await t.test('issues an RFC 9068 JWT for the API resource with the requested scopes', async () => {
      const tokens = await client.clientCredentialsGrant(config, { scope: 'oauth:manage', resource: h.api })
      const header = decodeProtectedHeader(tokens.access_token)
      const claims = decodeJwt(tokens.access_token)
      assert.equal(header.typ, 'at+jwt')
      assert.equal(header.alg, 'ES256')
      assert.equal(claims.aud, h.api)
      assert.equal(claims.iss, h.issuer)
      assert.equal(claims.scope, 'oauth:manage')
      assert.equal(claims.org_id, h.org.orgId)
      assert.equal(tokens.expires_in, 600)
      const r = await apiGet(h, '/v1/oauth/clients', tokens.access_token)
      assert.equal(r.status, 200)
      assert.ok(r.body.data.some((c: any) => c.id === created.id))
    })

    await t.test("the token's scopes limit what it can do", async () => {
      const tokens = await client.clientCredentialsGrant(config, { scope: 'messages:read' })
      const r = await apiGet(h, '/v1/oauth/clients', tokens.access_token)
      assert.equal(r.status, 403)
      assert.equal(r.body.error.code, 'insufficient_scope')
    })

    await t.test('scopes the client was not given are never granted', async () => {
      const tokens = await client.clientCredentialsGrant(config, { scope: 'messages:read keys:manage' })
      assert.equal(decodeJwt(tokens.access_token).scope, 'messages:read')
      const r = await apiGet(h, '/v1/keys', tokens.access_token)
      assert.equal(r.status, 403)
    })

    await t.test('protected resource metadata (RFC 9728) names this authorization server', async () => {
      const r = await fetch(`${h.base}/.well-known/oauth-protected-resource/v1`)
      const meta = await r.json() as any
      assert.equal(meta.resource, h.api)
      assert.deepEqual(meta.authorization_servers, [h.issuer])
      assert.ok(meta.scopes_supported.includes('messages:send'))
    })

    await t.test('a wrong secret is refused', async () => {
      const bad = await h.discover(created.id, created.client_secret.slice(0, -2) + 'xx')
      await assert.rejects(client.clientCredentialsGrant(bad, { scope: 'messages:read' }), (e: any) => e.status === 401 && e.cause?.[0]?.parameters?.error === 'invalid_client')
    })
  })
}
