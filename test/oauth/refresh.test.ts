import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from './helpers.ts'
import { addMember } from './users.ts'
import { authorize, REDIRECT } from './flow.ts'

const isInvalidGrant = (e: any) => e?.error === 'invalid_grant'

for (const { name, skip } of await testDialects()) {
  test(`${name}: refresh tokens rotate, and a replayed one revokes the family`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    // A public native client: no secret, PKCE only, loopback redirect (RFC 8252).
    const created = await h.createClient({
      name: 'CLI', kind: 'public', application_type: 'native', grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['messages:read'], redirect_uris: [REDIRECT.replace('https://app.example', 'http://127.0.0.1')],
    })
    assert.equal(created.client_secret, undefined)
    const redirect = 'http://127.0.0.1/callback'
    const config = await h.discover(created.id)
    const user = await addMember(h, h.org.orgId, 'analyst')
    const verifier = client.randomPKCECodeVerifier()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect, scope: 'messages:read', state: 's1', resource: h.api,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })
    const back = await authorize(h, url, user, { redirect })
    const first = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: 's1' })
    assert.ok(first.refresh_token)

    await t.test('the authorization code works once', async () => {
      await assert.rejects(client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: 's1' }), isInvalidGrant)
    })

    // The code replay above revoked that grant: authorize again for the refresh tests.
    const verifier2 = client.randomPKCECodeVerifier()
    const url2 = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect, scope: 'messages:read', state: 's2', resource: h.api,
      code_challenge: await client.calculatePKCECodeChallenge(verifier2), code_challenge_method: 'S256',
    })
    const tokens = await client.authorizationCodeGrant(config, await authorize(h, url2, user, { redirect }), { pkceCodeVerifier: verifier2, expectedState: 's2' })

    let rotated: client.TokenEndpointResponse
    await t.test('each refresh returns a new refresh token and a working access token', async () => {
      rotated = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: h.api })
      assert.ok(rotated.refresh_token)
      assert.notEqual(rotated.refresh_token, tokens.refresh_token)
      assert.equal((await apiGet(h, '/v1/messages', rotated.access_token)).status, 200)
    })

    await t.test('replaying the old refresh token fails and revokes the whole family', async () => {
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), isInvalidGrant)
      // The newer refresh token of the same family is dead too...
      await assert.rejects(client.refreshTokenGrant(config, rotated.refresh_token!), isInvalidGrant)
      // ...and so are access tokens already issued from it.
      assert.equal((await apiGet(h, '/v1/messages', rotated.access_token)).status, 401)
    })

    await t.test('revoking a refresh token (RFC 7009) ends its grant', async () => {
      const v = client.randomPKCECodeVerifier()
      const u = client.buildAuthorizationUrl(config, {
        redirect_uri: redirect, scope: 'messages:read', state: 's3', resource: h.api,
        code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256',
      })
      const t3 = await client.authorizationCodeGrant(config, await authorize(h, u, user, { redirect }), { pkceCodeVerifier: v, expectedState: 's3' })
      assert.equal((await apiGet(h, '/v1/messages', t3.access_token)).status, 200)
      await client.tokenRevocation(config, t3.refresh_token!, { token_type_hint: 'refresh_token' })
      await assert.rejects(client.refreshTokenGrant(config, t3.refresh_token!), isInvalidGrant)
      assert.equal((await apiGet(h, '/v1/messages', t3.access_token)).status, 401)
    })

    await t.test('refresh tokens expire (14 days; the clock moves, nobody sleeps)', async () => {
      const v = client.randomPKCECodeVerifier()
      const u = client.buildAuthorizationUrl(config, {
        redirect_uri: redirect, scope: 'messages:read', state: 's4', resource: h.api,
        code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256',
      })
      const t4 = await client.authorizationCodeGrant(config, await authorize(h, u, user, { redirect }), { pkceCodeVerifier: v, expectedState: 's4' })
      h.clock.advance(14 * 24 * 3600_000 + 60_000)
      await assert.rejects(client.refreshTokenGrant(config, t4.refresh_token!), isInvalidGrant)
    })

    await t.test('nothing in the database reveals a token', async () => {
      const rows = await h.db.selectFrom('oauth_artifacts').selectAll().execute()
      const dump = JSON.stringify(rows)
      for (const secret of [tokens.refresh_token!, rotated.refresh_token!, first.refresh_token!]) assert.ok(!dump.includes(secret))
      assert.ok(!dump.includes(user.id), 'payloads are sealed')
    })
  })
}
