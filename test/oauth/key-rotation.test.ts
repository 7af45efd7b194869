import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { decodeProtectedHeader } from 'jose'
import { MINUTE } from '../../src/core/clock.ts'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from './helpers.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: signing key rotation`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const oauth = h.app.oauth
    // The key ring is created 20 minutes "ago", so its published successor is past the lead time.
    h.clock.advance(-20 * MINUTE)
    await oauth.reloadKeys()
    h.clock.advance(20 * MINUTE)
    const created = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage'] })
    const config = await h.discover(created.id, created.client_secret)
    const jwks = async () => ((await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] }).keys

    const before = await oauth.keyRing.list()
    const active = before.find((k) => k.state === 'active')!
    const next = before.find((k) => k.state === 'next')!
    const oldToken = (await client.clientCredentialsGrant(config, { scope: 'oauth:manage' })).access_token

    await t.test('the next key is published before it signs anything; no private part is published', async () => {
      const published = await jwks()
      assert.deepEqual(published.map((k) => k.kid).sort(), [active.kid, next.kid].sort())
      assert.ok(published.every((k) => k.d === undefined))
      assert.equal(decodeProtectedHeader(oldToken).kid, active.kid)
    })

    await t.test('a key published too recently is not promoted', async () => {
      await oauth.keyRing.rotate()
      await oauth.reloadKeys()
      const fresh = (await oauth.keyRing.list()).find((k) => k.state === 'next')!
      await assert.rejects(oauth.keyRing.rotate(), /may sign after/)
      assert.ok(fresh)
    })

    await t.test('after rotation: new tokens use the new key, old ones stay valid until they expire', async () => {
      const newToken = (await client.clientCredentialsGrant(config, { scope: 'oauth:manage' })).access_token
      assert.equal(decodeProtectedHeader(newToken).kid, next.kid)
      assert.equal((await apiGet(h, '/v1/oauth/clients', oldToken)).status, 200)
      assert.equal((await apiGet(h, '/v1/oauth/clients', newToken)).status, 200)
      assert.ok((await jwks()).some((k) => k.kid === active.kid), 'the retired key stays published')
    })

    await t.test('once every token it signed has expired, the retired key leaves the JWKS', async () => {
      h.clock.advance(12 * MINUTE)
      assert.equal((await apiGet(h, '/v1/oauth/clients', oldToken)).status, 401)
      await oauth.maintain()
      const kids = (await jwks()).map((k) => k.kid)
      assert.ok(!kids.includes(active.kid))
      assert.ok(kids.includes(next.kid))
    })

    await t.test('private keys are sealed at rest', async () => {
      const rows = await h.db.selectFrom('oauth_signing_keys').selectAll().execute()
      for (const r of rows) {
        assert.ok(!r.private_jwk.includes('"d"'))
        assert.ok(!JSON.parse(r.public_jwk).d)
      }
    })
  })
}
