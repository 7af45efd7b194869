import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { buildOAuthApp } from './helpers.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

/** Issue 13 findings 1, 2, 3 and the discovery part of finding 10, reproduced over HTTP. */
const PUBLIC = 'https://mail.example.test'

async function call(h: TestApp, key: string, method: string, url: string, body?: unknown, remoteAddress?: string) {
  const r = await h.http.inject({ method: method as any, url, headers: bearer(key), remoteAddress, ...(body === undefined ? {} : { payload: body as any }) })
  return { status: r.statusCode, body: r.body ? r.json() : null }
}

/** RFC 6749 client credentials grant straight at the token endpoint. */
async function clientToken(h: TestApp, id: string, secret: string, scope: string): Promise<string> {
  const r = await h.http.inject({
    method: 'POST', url: '/oauth/token',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: `${PUBLIC}/v1` }).toString(),
  })
  assert.equal(r.statusCode, 200, r.body)
  return r.json().access_token
}

const ccClient = (scopes: readonly string[], extra: Record<string, unknown> = {}) =>
  ({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes, ...extra })

for (const { name, skip } of await testDialects()) {
  test(`${name}: privilege boundaries of OAuth clients`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_PUBLIC_URL: PUBLIC, SEALPOST_TRUSTED_PROXIES: '10.0.0.0/8' } })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const key = (input: { scopes: readonly string[]; environment?: 'live' | 'test'; ipRanges?: string[] }) =>
      createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'k', environment: input.environment ?? 'live', scopes: input.scopes, conditions: input.ipRanges ? { ipRanges: input.ipRanges } : null })

    await t.test('finding 1: an oauth:manage-only key can neither rotate the secret of a wider client nor delete it', async () => {
      const owners = await call(h, org.liveKey, 'POST', '/v1/oauth/clients', ccClient(ALL_SCOPES))
      assert.equal(owners.status, 201)
      const narrow = await key({ scopes: ['oauth:manage'] })
      const rotate = await call(h, narrow.secret, 'POST', `/v1/oauth/clients/${owners.body.id}/secret`)
      assert.equal(rotate.status, 403)
      assert.equal(rotate.body.error.code, 'insufficient_scope')
      assert.ok(rotate.body.error.details.scopes.includes('org:admin'))
      assert.equal(rotate.body.client_secret, undefined)
      const del = await call(h, narrow.secret, 'DELETE', `/v1/oauth/clients/${owners.body.id}`)
      assert.equal(del.status, 403)
      assert.equal(del.body.error.code, 'insufficient_scope')
      // Nothing changed: the owner's secret still mints tokens.
      assert.ok(await clientToken(h, owners.body.id, owners.body.client_secret, 'keys:manage'))
      // What it could have created itself, it may rotate and delete.
      const own = await call(h, narrow.secret, 'POST', '/v1/oauth/clients', ccClient(['oauth:manage']))
      assert.equal((await call(h, narrow.secret, 'POST', `/v1/oauth/clients/${own.body.id}/secret`)).status, 200)
      assert.equal((await call(h, narrow.secret, 'DELETE', `/v1/oauth/clients/${own.body.id}`)).status, 204)
    })

    await t.test('finding 2: a test key cannot create a live client; its clients are test clients whose tokens stay in the sandbox', async () => {
      const live = await call(h, org.testKey, 'POST', '/v1/oauth/clients', ccClient(['keys:manage'], { environment: 'live' }))
      assert.equal(live.status, 403)
      assert.equal(live.body.error.code, 'forbidden')
      assert.equal(live.body.error.details.environment, 'live')
      const sandboxed = await call(h, org.testKey, 'POST', '/v1/oauth/clients', ccClient(['keys:manage']))
      assert.equal(sandboxed.status, 201)
      assert.equal(sandboxed.body.environment, 'test')
      const token = await clientToken(h, sandboxed.body.id, sandboxed.body.client_secret, 'keys:manage')
      const liveKey = await call(h, token, 'POST', '/v1/keys', { name: 'escape', scopes: ['keys:manage'], environment: 'live' })
      assert.equal(liveKey.status, 403)
      assert.equal(liveKey.body.error.code, 'forbidden')
      const testKey = await call(h, token, 'POST', '/v1/keys', { name: 'inside', scopes: ['keys:manage'], environment: 'test' })
      assert.equal(testKey.status, 201)
      assert.match(testKey.body.secret, /^sp_test_/)
      // Environment equal, both ways: a live key does not manage test clients either.
      const down = await call(h, org.liveKey, 'POST', '/v1/oauth/clients', ccClient(['keys:manage'], { environment: 'test' }))
      assert.equal(down.status, 403)
      assert.equal(down.body.error.code, 'forbidden')
    })

    await t.test('finding 3: a key restricted to 127.0.0.1/32 mints a client whose token is refused from 127.0.0.2', async () => {
      const restricted = await key({ scopes: ALL_SCOPES, ipRanges: ['127.0.0.1/32'] })
      const created = await call(h, restricted.secret, 'POST', '/v1/oauth/clients', ccClient(['oauth:manage', 'messages:read']), '127.0.0.1')
      assert.equal(created.status, 201)
      assert.deepEqual(created.body.conditions, { ip_ranges: ['127.0.0.1/32'] })
      const token = await clientToken(h, created.body.id, created.body.client_secret, 'oauth:manage')
      const far = await call(h, token, 'GET', '/v1/oauth/clients', undefined, '127.0.0.2')
      assert.equal(far.status, 403)
      assert.equal(far.body.error.code, 'policy_denied')
      assert.equal(far.body.error.details.reason, 'ip_not_allowed')
      // Behind a trusted proxy the forwarded client address counts, not the proxy's.
      const viaProxy = await h.http.inject({ method: 'GET', url: '/v1/oauth/clients', headers: { ...bearer(token), 'x-forwarded-for': '127.0.0.2' }, remoteAddress: '10.0.0.5' })
      assert.equal(viaProxy.statusCode, 403)
      assert.equal((await call(h, token, 'GET', '/v1/oauth/clients', undefined, '127.0.0.1')).status, 200)
      // Asking for a wider range than the creator's is refused, naming the condition kind only.
      const wider = await call(h, restricted.secret, 'POST', '/v1/oauth/clients', ccClient(['messages:read'], { conditions: { ip_ranges: ['127.0.0.0/8'] } }), '127.0.0.1')
      assert.equal(wider.status, 403)
      assert.equal(wider.body.error.code, 'forbidden')
      assert.equal(wider.body.error.details.condition, 'ipRanges')
      // Narrower is fine, and is what the client keeps.
      const narrower = await call(h, org.liveKey, 'POST', '/v1/oauth/clients', ccClient(['messages:read'], { conditions: { ip_ranges: ['192.0.2.0/24'] } }))
      assert.equal(narrower.status, 201)
      assert.deepEqual(narrower.body.conditions, { ip_ranges: ['192.0.2.0/24'] })
    })

    await t.test('finding 10 (discovery): Host and X-Forwarded-Host never change an endpoint; the configured public URL does', async () => {
      for (const url of ['/oauth/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/oauth']) {
        for (const headers of [{ host: 'evil.example' }, { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }]) {
          const r = await h.http.inject({ method: 'GET', url, headers, remoteAddress: '10.0.0.5' })
          assert.equal(r.statusCode, 200, r.body)
          const meta = r.json()
          assert.equal(meta.issuer, `${PUBLIC}/oauth`)
          const urls = Object.entries(meta).filter(([k, v]) => typeof v === 'string' && (k === 'issuer' || k.endsWith('_endpoint') || k === 'jwks_uri'))
          assert.ok(urls.length >= 5, JSON.stringify(meta))
          for (const [k, v] of urls) assert.ok(String(v).startsWith(`${PUBLIC}/oauth/`) || v === `${PUBLIC}/oauth`, `${url} ${k}: ${v}`)
          assert.ok(!r.body.includes('evil.example'))
        }
      }
    })
  })

  test(`${name}: without a public URL, discovery uses the listener's own address, never Host`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const r = await h.http.inject({ method: 'GET', url: '/oauth/.well-known/openid-configuration', headers: { host: 'evil.example' } })
    assert.equal(r.statusCode, 200)
    const meta = r.json()
    assert.equal(meta.issuer, h.issuer)
    assert.equal(meta.token_endpoint, `${h.issuer}/token`)
    assert.equal(meta.authorization_endpoint, `${h.issuer}/auth`)
    assert.ok(!r.body.includes('evil.example'))
  })
}
