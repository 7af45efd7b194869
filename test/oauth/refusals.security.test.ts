import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { SignJWT, importJWK, generateKeyPair, decodeJwt } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet, type OAuthTestApp } from './helpers.ts'

const REDIRECT = 'https://app.example/callback'

/** Sends the browser to the authorization endpoint and returns where it is told to go (no redirects followed). */
async function authorizeRaw(h: OAuthTestApp, params: Record<string, string>) {
  const r = await fetch(`${h.issuer}/auth?${new URLSearchParams(params)}`, { redirect: 'manual' })
  return { status: r.status, location: r.headers.get('location'), body: await r.text() }
}

const errorOf = (location: string | null) => (location ? new URL(location).searchParams : new URLSearchParams())

/** A token signed with Sealpost's real active key, with claims the test chooses. */
async function signWithActiveKey(h: OAuthTestApp, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const keys = await h.app.oauth.keyRing.load()
  const jwk = keys.privateJwks[0]
  const key = await importJWK(jwk, 'ES256')
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...header }).sign(key)
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: the authorization server and resource server refuse`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const web = await h.createClient({ name: 'web', kind: 'confidential', grant_types: ['authorization_code'], scopes: ['messages:read'], redirect_uris: [REDIRECT] })
    const svc = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage'] })
    const svcConfig = await h.discover(svc.id, svc.client_secret)
    const base = { client_id: web.id, response_type: 'code', redirect_uri: REDIRECT, scope: 'messages:read', state: 'st', resource: h.api }
    const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier())

    await t.test('plain PKCE', async () => {
      const r = await authorizeRaw(h, { ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })
      assert.equal(errorOf(r.location).get('error'), 'invalid_request')
      assert.equal(errorOf(r.location).get('error_description'), 'not supported value of code_challenge_method')
    })

    await t.test('missing PKCE', async () => {
      const r = await authorizeRaw(h, base)
      assert.equal(errorOf(r.location).get('error'), 'invalid_request')
      assert.equal(errorOf(r.location).get('error_description'), 'Authorization Server policy requires PKCE to be used for this request')
    })

    await t.test('a redirect URI that differs by one character (and nothing is sent to it)', async () => {
      const r = await authorizeRaw(h, { ...base, redirect_uri: `${REDIRECT}s`, code_challenge: challenge, code_challenge_method: 'S256' })
      assert.equal(r.status, 400)
      assert.equal(r.location, null)
      assert.match(r.body, /redirect_uri did not match any of the client&#39;s registered redirect_uris|redirect_uri_mismatch|invalid_redirect_uri/)
    })

    await t.test('implicit response types', async () => {
      for (const responseType of ['token', 'id_token token', 'code token']) {
        const r = await authorizeRaw(h, { ...base, response_type: responseType, code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n' })
        const err = r.location ? (errorOf(r.location).get('error') ?? new URLSearchParams(new URL(r.location).hash.slice(1)).get('error')) : null
        assert.ok(err === 'unsupported_response_type' || (r.status === 400 && /unsupported_response_type/.test(r.body)), `${responseType}: ${r.status} ${r.location} ${r.body.slice(0, 200)}`)
      }
    })

    await t.test('the password grant does not exist', async () => {
      const r = await fetch(`${h.issuer}/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${svc.id}:${svc.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'password', username: 'a', password: 'b' }),
      })
      assert.equal(r.status, 400)
      assert.equal((await r.json()).error, 'unsupported_grant_type')
    })

    const good = await client.clientCredentialsGrant(svcConfig, { scope: 'oauth:manage' })
    const claims = decodeJwt(good.access_token)

    await t.test('a token for another audience', async () => {
      const token = await signWithActiveKey(h, { ...claims, aud: 'https://other.example/api' })
      assert.equal((await apiGet(h, '/v1/oauth/clients', token)).status, 401)
      const same = await signWithActiveKey(h, { ...claims })
      assert.equal((await apiGet(h, '/v1/oauth/clients', same)).status, 200, 'control: same claims with the right audience pass')
    })

    await t.test('a token of the wrong type, issuer, or signed by another key', async () => {
      assert.equal((await apiGet(h, '/v1/oauth/clients', await signWithActiveKey(h, claims, { typ: 'JWT' }))).status, 401)
      assert.equal((await apiGet(h, '/v1/oauth/clients', await signWithActiveKey(h, { ...claims, iss: 'https://evil.example/oauth' }))).status, 401)
      const { privateKey } = await generateKeyPair('ES256')
      const kid = (await h.app.oauth.keyRing.load()).activeKid
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(privateKey)
      assert.equal((await apiGet(h, '/v1/oauth/clients', forged)).status, 401)
    })

    await t.test('a tampered token', async () => {
      const [hdr, payload, sig] = good.access_token.split('.')
      const raised = Buffer.from(JSON.stringify({ ...claims, scope: 'oauth:manage keys:manage' })).toString('base64url')
      assert.notEqual(raised, payload)
      const r = await apiGet(h, '/v1/oauth/clients', `${hdr}.${raised}.${sig}`)
      assert.equal(r.status, 401)
      assert.equal(r.body.error.code, 'unauthenticated')
    })

    await t.test('an expired token (the clock moves, nobody sleeps)', async () => {
      const t2 = await client.clientCredentialsGrant(svcConfig, { scope: 'oauth:manage' })
      assert.equal((await apiGet(h, '/v1/oauth/clients', t2.access_token)).status, 200)
      // oidc-provider stamps `exp` from the real clock while the test clock stands still (it lags real time
      // by however long the suite has run on a loaded machine): move well past the 10 minutes.
      const skip = 30 * 60_000
      h.clock.advance(skip)
      try {
        assert.equal((await apiGet(h, '/v1/oauth/clients', t2.access_token)).status, 401)
      } finally {
        h.clock.advance(-skip)
      }
    })

    await t.test('a revoked token; introspection then says inactive', async () => {
      const t3 = await client.clientCredentialsGrant(svcConfig, { scope: 'oauth:manage' })
      assert.equal((await client.tokenIntrospection(svcConfig, t3.access_token)).active, true)
      assert.equal((await apiGet(h, '/v1/oauth/clients', t3.access_token)).status, 200)
      await client.tokenRevocation(svcConfig, t3.access_token)
      assert.equal((await apiGet(h, '/v1/oauth/clients', t3.access_token)).status, 401)
      assert.equal((await client.tokenIntrospection(svcConfig, t3.access_token)).active, false)
    })

    await t.test("another client cannot revoke or introspect a client's token", async () => {
      const other = await h.createClient({ name: 'other', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      const otherConfig = await h.discover(other.id, other.client_secret)
      const t4 = await client.clientCredentialsGrant(svcConfig, { scope: 'oauth:manage' })
      assert.equal((await client.tokenIntrospection(otherConfig, t4.access_token)).active, false)
      await client.tokenRevocation(otherConfig, t4.access_token)
      assert.equal((await apiGet(h, '/v1/oauth/clients', t4.access_token)).status, 200)
    })

    await t.test("a deleted client's tokens stop working", async () => {
      const gone = await h.createClient({ name: 'gone', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage'] })
      const goneConfig = await h.discover(gone.id, gone.client_secret)
      const t5 = await client.clientCredentialsGrant(goneConfig, { scope: 'oauth:manage' })
      const del = await fetch(`${h.base}/v1/oauth/clients/${gone.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.org.liveKey}` } })
      assert.equal(del.status, 204)
      assert.equal((await apiGet(h, '/v1/oauth/clients', t5.access_token)).status, 401)
      await assert.rejects(client.clientCredentialsGrant(goneConfig, { scope: 'oauth:manage' }))
    })
  })
}
