import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { decodeJwt } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { buildOAuthApp } from './helpers.ts'
import { addMember } from './users.ts'
import { authorize, REDIRECT } from './flow.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: authorization code + PKCE through login, MFA and consent`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const created = await h.createClient({
      name: 'Newsletter tool', kind: 'confidential', grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['messages:send', 'messages:read', 'audit:read'], redirect_uris: [REDIRECT],
    })
    const config = await h.discover(created.id, created.client_secret)
    const user = await addMember(h, h.org.orgId, 'developer', { mfa: true })

    const start = async () => {
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'messages:send messages:read audit:read', state, resource: h.api,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      })
      return { verifier, state, url }
    }

    let accessToken = ''
    await t.test('the user signs in with password and TOTP, consents, and the client gets a token', async () => {
      const { verifier, state, url } = await start()
      const back = await authorize(h, url, user, {
        onConsent: (p) => {
          // Plain words from the scope catalogue; audit:read is not in a developer's role, so it is withheld.
          assert.match(p.html, /Send email/)
          assert.match(p.html, /Read messages, their status and events/)
          assert.match(p.html, /your role does not allow it[\s\S]*Read and export the audit log/)
          const csp = p.headers.get('content-security-policy')!
          assert.match(csp, /script-src 'nonce-[A-Za-z0-9_-]+'/)
          assert.doesNotMatch(csp, /unsafe-inline/)
          assert.match(csp, /form-action 'self' https:\/\/app\.example/)
          assert.doesNotMatch(p.html, /<script(?![^>]*nonce=)/)
        },
      })
      const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })
      const claims = decodeJwt(tokens.access_token)
      assert.equal(claims.sub, user.id)
      assert.equal(claims.aud, h.api)
      assert.deepEqual(String(claims.scope).split(' ').sort(), ['messages:read', 'messages:send'])
      assert.ok(tokens.refresh_token)
      accessToken = tokens.access_token
    })

    await t.test('the token sends a message and reads messages, and nothing else', async () => {
      await h.verifiedDomain('news.example')
      const send = await fetch(`${h.base}/v1/messages`, {
        method: 'POST', headers: { ...bearer(accessToken), 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'hello@news.example', to: ['reader@example.org'], subject: 'Hi', text: 'Hello' }),
      })
      const sent = await send.json() as any
      assert.equal(send.status, 202, JSON.stringify(sent))
      const list = await fetch(`${h.base}/v1/messages`, { headers: bearer(accessToken) })
      assert.equal(list.status, 200)
      const audit = await fetch(`${h.base}/v1/audit-events`, { headers: bearer(accessToken) })
      assert.equal(audit.status, 403)
    })

    await t.test('consent is remembered for this client: the next authorization skips the page', async () => {
      h.clock.advance(30_000)
      const { verifier, state, url } = await start()
      const back = await authorize(h, url, user, { expectConsent: false })
      const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state })
      assert.equal(decodeJwt(tokens.access_token).sub, user.id)
    })
  })
}
