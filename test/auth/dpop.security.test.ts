import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import * as client from 'openid-client'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from '../oauth/helpers.ts'

// RFC 9449 at the resource server: `Authorization: DPoP <token>` + a `DPoP` proof header.
for (const { name, skip } of await testDialects()) {
  test(`${name}: DPoP-bound access tokens on /v1`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const svc = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage'] })
    const config = await h.discover(svc.id, svc.client_secret)
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const tokens = await client.clientCredentialsGrant(config, { scope: 'oauth:manage' }, { DPoP: client.getDPoPHandle(config, keyPair) })
    const token = tokens.access_token
    assert.equal(tokens.token_type.toLowerCase(), 'dpop')
    assert.equal(typeof (decodeJwt(token).cnf as { jkt?: string })?.jkt, 'string')
    const url = `${h.base}/v1/oauth/clients`
    const jwk = await exportJWK(keyPair.publicKey)

    /** A proof as a client would make it; `over` replaces claims, `key` signs with another key. */
    async function proof(over: Record<string, unknown> = {}, opts: { key?: CryptoKeyPair; typ?: string } = {}) {
      const kp = opts.key ?? keyPair
      const claims = {
        htm: 'GET', htu: url, jti: randomUUID(), iat: Math.floor(h.clock.now().getTime() / 1000),
        ath: createHash('sha256').update(token).digest('base64url'), ...over,
      }
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: opts.typ ?? 'dpop+jwt', jwk: kp === keyPair ? jwk : await exportJWK(kp.publicKey) as JWK }).sign(kp.privateKey)
    }
    const call = async (headers: Record<string, string>, target = url) => {
      const r = await fetch(target, { headers })
      return { status: r.status, body: await r.json().catch(() => null) as any }
    }
    const dpopCall = async (p: string | null, target = url) => call({ authorization: `DPoP ${token}`, ...(p ? { dpop: p } : {}) }, target)

    await t.test('a valid proof is accepted (openid-client as the client)', async () => {
      const r = await client.fetchProtectedResource(config, token, new URL(url), 'GET', undefined, undefined, { DPoP: client.getDPoPHandle(config, keyPair) })
      assert.equal(r.status, 200)
      assert.ok(((await r.json()) as any).data.some((c: any) => c.id === svc.id))
      assert.equal((await dpopCall(await proof())).status, 200)
      // The query string is not part of htu (RFC 9449 §4.3).
      assert.equal((await dpopCall(await proof(), `${url}?limit=5`)).status, 200)
    })

    await t.test('without its proof, or as a bearer token, the bound token is refused', async () => {
      for (const r of [await dpopCall(null), await apiGet(h, '/v1/oauth/clients', token)]) {
        assert.equal(r.status, 401)
        assert.equal(r.body.error.code, 'unauthenticated')
      }
    })

    await t.test('a proof for another method, URL, token or key, or not fresh, is refused', async () => {
      const other = await generateKeyPair('ES256')
      const refused = {
        method: await proof({ htm: 'POST' }),
        url: await proof({ htu: `${h.base}/v1/keys` }),
        origin: await proof({ htu: url.replace('127.0.0.1', 'localhost') }),
        token: await proof({ ath: createHash('sha256').update('another token').digest('base64url') }),
        noAth: await proof({ ath: undefined }),
        key: await proof({}, { key: other }),
        typ: await proof({}, { typ: 'JWT' }),
        old: await proof({ iat: Math.floor(h.clock.now().getTime() / 1000) - 120 }),
        future: await proof({ iat: Math.floor(h.clock.now().getTime() / 1000) + 120 }),
        garbage: 'not.a.jwt',
      }
      for (const [why, p] of Object.entries(refused)) {
        const r = await dpopCall(p)
        assert.equal(r.status, 401, why)
        assert.equal(r.body.error.code, 'unauthenticated', why)
      }
    })

    await t.test('a proof is single-use: the replay is refused', async () => {
      const p = await proof()
      assert.equal((await dpopCall(p)).status, 200)
      assert.equal((await dpopCall(p)).status, 401)
    })

    await t.test('an unbound (bearer) token under the DPoP scheme is refused', async () => {
      const plain = await client.clientCredentialsGrant(config, { scope: 'oauth:manage' })
      assert.equal((await apiGet(h, '/v1/oauth/clients', plain.access_token)).status, 200)
      const p = await proof({ ath: createHash('sha256').update(plain.access_token).digest('base64url') })
      assert.equal((await call({ authorization: `DPoP ${plain.access_token}`, dpop: p })).status, 401)
    })

    await t.test('an API key under the DPoP scheme is refused', async () => {
      assert.equal((await call({ authorization: `DPoP ${h.org.liveKey}`, dpop: await proof() })).status, 401)
    })
  })
}
