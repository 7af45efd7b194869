import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { decodeJwt } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { buildOAuthApp, apiGet, type OAuthTestApp } from './helpers.ts'
import { addMember } from './users.ts'
import { authorize } from './flow.ts'
import { updateUser } from '../../src/users/store.ts'
import { insertCustomRole } from '../../src/users/membership-store.ts'
import { newId } from '../../src/core/ids.ts'

/**
 * Issue 13, item 4 / finding 5: revocation reaches every token on the NEXT request. Role change,
 * membership removal, deactivation, client deletion and secret rotation end (or narrow) the grants,
 * access tokens and refresh tokens derived from them. No mirror refresh runs in these tests
 * (maintenance is off): each refusal comes from the per-request check.
 */
const REDIRECT = 'http://127.0.0.1/callback'
const SCOPE = 'messages:read contacts:read contacts:write contacts:pii'
const isInvalidGrant = (e: any) => e?.error === 'invalid_grant'

async function api(h: OAuthTestApp, method: string, path: string, key: string, body?: unknown) {
  const r = await fetch(`${h.base}${path}`, { method, headers: { ...bearer(key), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : null }
}

/** A public native client (code + refresh) and a member who authorized it: access and refresh token. */
async function memberTokens(h: OAuthTestApp, role: string) {
  const created = await h.createClient({
    name: 'CRM', kind: 'public', application_type: 'native', grant_types: ['authorization_code', 'refresh_token'],
    scopes: SCOPE.split(' '), redirect_uris: [REDIRECT],
  })
  const config = await h.discover(created.id)
  const user = await addMember(h, h.org.orgId, role)
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: SCOPE, state: 's', resource: h.api,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  })
  const tokens = await client.authorizationCodeGrant(config, await authorize(h, url, user, { redirect: REDIRECT }), { pkceCodeVerifier: verifier, expectedState: 's' })
  assert.ok(tokens.refresh_token)
  return { config, user, tokens, clientId: created.id as string }
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: revocation reaches every token on the next request`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const contact = await api(h, 'POST', '/v1/contacts', h.org.liveKey, { email: 'jane@example.com', first_name: 'Jane' })
    assert.equal(contact.status, 201, JSON.stringify(contact.body))

    await t.test('finding 5: a demoted member (marketer → support) loses contacts:pii on the same access token and on every refresh', async () => {
      const m = await memberTokens(h, 'marketer')
      const before = await apiGet(h, `/v1/contacts/${contact.body.id}`, m.tokens.access_token)
      assert.equal(before.status, 200)
      assert.equal(before.body.email, 'jane@example.com')
      assert.equal((await api(h, 'PATCH', '/v1/members/' + m.user.id, h.org.liveKey, { role: 'support' })).status, 200)

      // The token already out: next request, masked (contacts:pii gone) and no writes (contacts:write gone).
      const after = await apiGet(h, `/v1/contacts/${contact.body.id}`, m.tokens.access_token)
      assert.equal(after.status, 200)
      assert.notEqual(after.body.email, 'jane@example.com')
      const write = await api(h, 'POST', '/v1/contacts', m.tokens.access_token, { email: 'x@example.com' })
      assert.equal(write.status, 403)
      assert.equal(write.body.error.code, 'insufficient_scope')

      // The refresh succeeds (support may still read) but its token carries only what support holds.
      const refreshed = await client.refreshTokenGrant(m.config, m.tokens.refresh_token!, { resource: h.api })
      const scopes = String(decodeJwt(refreshed.access_token).scope).split(' ').sort()
      assert.deepEqual(scopes, ['contacts:read', 'messages:read'])
      const masked = await apiGet(h, `/v1/contacts/${contact.body.id}`, refreshed.access_token)
      assert.equal(masked.status, 200)
      assert.notEqual(masked.body.email, 'jane@example.com')
    })

    await t.test("a removed member's access and refresh tokens are refused on the very next request", async () => {
      const m = await memberTokens(h, 'marketer')
      assert.equal((await apiGet(h, '/v1/messages', m.tokens.access_token)).status, 200)
      assert.equal((await api(h, 'DELETE', '/v1/members/' + m.user.id, h.org.liveKey)).status, 204)
      const r = await apiGet(h, '/v1/messages', m.tokens.access_token)
      assert.equal(r.status, 401)
      assert.equal(r.body.error.code, 'unauthenticated')
      await assert.rejects(client.refreshTokenGrant(m.config, m.tokens.refresh_token!, { resource: h.api }), isInvalidGrant)
      // Its grants and refresh tokens are gone from the store, not merely refused.
      const left = await h.db.selectFrom('oauth_artifacts').select('model').where('client_id', '=', m.clientId).where('model', 'in', ['Grant', 'RefreshToken']).execute()
      assert.deepEqual(left, [])
    })

    await t.test("a deactivated user's tokens are refused on the next request", async () => {
      const m = await memberTokens(h, 'analyst')
      assert.equal((await apiGet(h, '/v1/messages', m.tokens.access_token)).status, 200)
      await updateUser(h.db, m.user.id, { disabled_at: h.clock.now().getTime() })
      assert.equal((await apiGet(h, '/v1/messages', m.tokens.access_token)).status, 401)
      await assert.rejects(client.refreshTokenGrant(m.config, m.tokens.refresh_token!, { resource: h.api }), isInvalidGrant)
    })

    await t.test("deleting a client kills its access tokens and its users' refresh tokens", async () => {
      const m = await memberTokens(h, 'analyst')
      const cc = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      const ccToken = (await client.clientCredentialsGrant(await h.discover(cc.id, cc.client_secret), { scope: 'messages:read', resource: h.api })).access_token
      assert.equal((await apiGet(h, '/v1/messages', ccToken)).status, 200)
      assert.equal((await api(h, 'DELETE', `/v1/oauth/clients/${cc.id}`, h.org.liveKey)).status, 204)
      assert.equal((await apiGet(h, '/v1/messages', ccToken)).status, 401)

      assert.equal((await api(h, 'DELETE', `/v1/oauth/clients/${m.clientId}`, h.org.liveKey)).status, 204)
      assert.equal((await apiGet(h, '/v1/messages', m.tokens.access_token)).status, 401)
      await assert.rejects(client.refreshTokenGrant(m.config, m.tokens.refresh_token!, { resource: h.api }))
    })

    await t.test('rotating a client secret kills the tokens minted under the old one; new ones work', async () => {
      const cc = await h.createClient({ name: 'svc2', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      const old = (await client.clientCredentialsGrant(await h.discover(cc.id, cc.client_secret), { scope: 'messages:read', resource: h.api })).access_token
      assert.equal((await apiGet(h, '/v1/messages', old)).status, 200)
      const rotated = await api(h, 'POST', `/v1/oauth/clients/${cc.id}/secret`, h.org.liveKey)
      assert.equal(rotated.status, 200)
      const r = await apiGet(h, '/v1/messages', old)
      assert.equal(r.status, 401)
      await assert.rejects(client.clientCredentialsGrant(await h.discover(cc.id, cc.client_secret), { scope: 'messages:read', resource: h.api }))
      const fresh = (await client.clientCredentialsGrant(await h.discover(cc.id, rotated.body.client_secret), { scope: 'messages:read', resource: h.api })).access_token
      assert.equal((await apiGet(h, '/v1/messages', fresh)).status, 200)
    })

    await t.test("a user's token carries the role's conditions: a role limited to 192.0.2.0/24 is refused from 127.0.0.1", async () => {
      const at = h.clock.now().getTime()
      const roleId = newId('role', at)
      await insertCustomRole(h.db, { id: roleId, org_id: h.org.orgId, name: 'remote-reader', description: '', scopes: JSON.stringify(['messages:read']), conditions: JSON.stringify({ ipRanges: ['192.0.2.0/24'] }), created_at: at, updated_at: at })
      const m = await memberTokens(h, roleId)
      const r = await apiGet(h, '/v1/messages', m.tokens.access_token)
      assert.equal(r.status, 403)
      assert.equal(r.body.error.code, 'policy_denied')
      assert.equal(r.body.error.details.reason, 'ip_not_allowed')
      // Widen the role to loopback: the same token works on its next request (conditions are read per request).
      await h.db.updateTable('custom_roles').set({ conditions: JSON.stringify({ ipRanges: ['127.0.0.0/8'] }) }).where('id', '=', roleId).execute()
      assert.equal((await apiGet(h, '/v1/messages', m.tokens.access_token)).status, 200)
    })

    await t.test('a revocation written by another process applies on the next request (no mirror refresh)', async () => {
      const cc = await h.createClient({ name: 'svc3', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })
      const token = (await client.clientCredentialsGrant(await h.discover(cc.id, cc.client_secret), { scope: 'messages:read', resource: h.api })).access_token
      assert.equal((await apiGet(h, '/v1/messages', token)).status, 200)
      // What another API process's RFC 7009 revocation writes; this process's mirror never hears of it.
      const at = h.clock.now().getTime()
      await h.db.insertInto('oauth_revocations').values({ id: `jti:${decodeJwt(token).jti}`, revoked_at: at, expires_at: at + 3600_000 }).execute()
      assert.equal((await apiGet(h, '/v1/messages', token)).status, 401)
    })
  })
}
