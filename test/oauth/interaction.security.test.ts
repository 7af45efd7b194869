import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from './helpers.ts'
import { createBrowser, formAction, hiddenFields } from './browser.ts'
import { addMember, PASSWORD, totpNow } from './users.ts'
import { REDIRECT } from './flow.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: login, MFA and consent pages refuse`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const created = await h.createClient({ name: 'app', kind: 'confidential', grant_types: ['authorization_code'], scopes: ['messages:read'], redirect_uris: [REDIRECT] })
    const config = await h.discover(created.id, created.client_secret)
    const authUrl = async () => client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'messages:read', state: 's', resource: h.api,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    })
    const member = await addMember(h, h.org.orgId, 'analyst', { mfa: true })

    await t.test('the login page has a strict CSP and no script', async () => {
      const p = await createBrowser(h.base).open((await authUrl()).href)
      const csp = p.headers.get('content-security-policy')!
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /frame-ancestors 'none'/)
      assert.doesNotMatch(csp, /unsafe/)
      assert.doesNotMatch(p.html, /<script/)
      assert.equal(p.headers.get('cache-control'), 'no-store')
    })

    await t.test('a form without the CSRF token is refused', async () => {
      const b = createBrowser(h.base)
      const p = await b.open((await authUrl()).href)
      const r = await b.post(formAction(p.html, '/login'), { email: member.email, password: PASSWORD })
      assert.equal(r.status, 403)
    })

    await t.test("another browser cannot post to someone's interaction (it is bound to their cookie)", async () => {
      const victim = createBrowser(h.base)
      const p = await victim.open((await authUrl()).href)
      const attacker = createBrowser(h.base)
      const r = await attacker.post(formAction(p.html, '/login'), { ...hiddenFields(p.html), email: member.email, password: PASSWORD })
      assert.equal(r.status, 400)
      assert.match(r.html, /expired or was already completed/)
    })

    await t.test('a wrong password and an unknown email get the same answer', async () => {
      const b = createBrowser(h.base)
      const p = await b.open((await authUrl()).href)
      const wrong = await b.submit(p, formAction(p.html, '/login'), { email: member.email, password: 'not the password at all' })
      const unknown = await b.submit(wrong, formAction(wrong.html, '/login'), { email: 'nobody@example.com', password: 'not the password at all' })
      assert.equal(wrong.status, unknown.status)
      assert.match(wrong.html, /Wrong email or password/)
      assert.match(unknown.html, /Wrong email or password/)
    })

    await t.test('the password alone is not enough; wrong codes end the attempt', async () => {
      const b = createBrowser(h.base)
      let p = await b.open((await authUrl()).href)
      p = await b.submit(p, formAction(p.html, '/login'), { email: member.email, password: PASSWORD })
      assert.match(p.html, /Two-step verification/)
      for (let i = 0; i < 4; i++) {
        p = await b.submit(p, formAction(p.html, '/mfa'), { code: '000000' })
        assert.match(p.html, /That code is not valid/)
      }
      p = await b.submit(p, formAction(p.html, '/mfa'), { code: '000000' })
      assert.equal(p.status, 303)
      assert.equal(new URL(p.location!).searchParams.get('error'), 'access_denied')
    })

    await t.test('a user who is not a member of the client organization is denied', async () => {
      const other = await h.seedOrg('Elsewhere')
      const outsider = await addMember(h, other.orgId, 'admin')
      const b = createBrowser(h.base)
      let p = await b.open((await authUrl()).href)
      p = await b.submit(p, formAction(p.html, '/login'), { email: outsider.email, password: PASSWORD })
      // admin requires MFA: without it the user must enrol first and cannot authorize apps.
      assert.equal(p.status, 403)
      assert.match(p.html, /Set up two-step verification first/)
      const plain = await addMember(h, other.orgId, 'analyst')
      const b2 = createBrowser(h.base)
      let q = await b2.open((await authUrl()).href)
      q = await b2.submit(q, formAction(q.html, '/login'), { email: plain.email, password: PASSWORD })
      assert.equal(q.status, 303)
      assert.equal(new URL(q.location!).searchParams.get('error'), 'access_denied')
    })

    await t.test('denying consent sends access_denied to the client', async () => {
      h.clock.advance(30_000)
      const b = createBrowser(h.base)
      let p = await b.open((await authUrl()).href)
      p = await b.submit(p, formAction(p.html, '/login'), { email: member.email, password: PASSWORD })
      p = await b.submit(p, formAction(p.html, '/mfa'), { code: await totpNow(h, member.totpSecret!) })
      p = await b.submit(p, formAction(p.html, '/consent'), { decision: 'deny' })
      assert.equal(new URL(p.location!).searchParams.get('error'), 'access_denied')
    })

    await t.test('a DPoP-bound token is refused when presented as a plain bearer token', async () => {
      const svc = await h.createClient({ name: 'svc', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['oauth:manage'] })
      const svcConfig = await h.discover(svc.id, svc.client_secret)
      const dpop = client.getDPoPHandle(svcConfig, await client.randomDPoPKeyPair('ES256'))
      const tokens = await client.clientCredentialsGrant(svcConfig, { scope: 'oauth:manage' }, { DPoP: dpop })
      assert.equal(tokens.token_type.toLowerCase(), 'dpop')
      assert.equal((await apiGet(h, '/v1/oauth/clients', tokens.access_token)).status, 401)
    })
  })
}
