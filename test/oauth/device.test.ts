import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as oauth from 'oauth4webapi'
import { decodeJwt } from 'jose'
import { testDialects } from '../helpers/dialects.ts'
import { buildOAuthApp, apiGet } from './helpers.ts'
import { createBrowser, formAction } from './browser.ts'
import { addMember, PASSWORD } from './users.ts'

const insecure = { [oauth.allowInsecureRequests]: true }

for (const { name, skip } of await testDialects()) {
  test(`${name}: device authorization grant (RFC 8628)`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    const created = await h.createClient({
      name: 'Mail kiosk', kind: 'public', application_type: 'native',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], scopes: ['messages:read'],
    })
    const issuer = new URL(h.issuer)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
    const c: oauth.Client = { client_id: created.id }
    const auth = oauth.None()
    const poll = async (deviceCode: string) =>
      oauth.processDeviceCodeResponse(as, c, await oauth.deviceCodeGrantRequest(as, c, auth, deviceCode, insecure))

    const device = await oauth.processDeviceAuthorizationResponse(as, c,
      await oauth.deviceAuthorizationRequest(as, c, auth, new URLSearchParams({ scope: 'messages:read', resource: h.api }), insecure))
    assert.match(device.user_code, /^[A-Z]{4}-[A-Z]{4}$/)

    await t.test('polling before the user approves: authorization_pending', async () => {
      await assert.rejects(poll(device.device_code), (e: any) => e instanceof oauth.ResponseBodyError && e.error === 'authorization_pending')
    })

    await t.test('the user enters the code, signs in, consents; the device then gets tokens', async () => {
      const user = await addMember(h, h.org.orgId, 'analyst')
      const b = createBrowser(h.base)
      let p = await b.open(device.verification_uri)
      assert.equal(p.status, 200)
      assert.match(p.html, /Connect a device/)
      assert.doesNotMatch(p.html, /onfocus=/)
      p = await b.submit(p, formAction(p.html, '/device'), { user_code: device.user_code.toLowerCase() })
      assert.match(p.html, /Confirm the device/)
      assert.ok(p.html.includes(device.user_code))
      p = await b.submit(p, formAction(p.html, '/device'), {})
      assert.match(p.html, /Sign in/, p.html)
      p = await b.submit(p, formAction(p.html, '/login'), { email: user.email, password: PASSWORD })
      // A public native client: consent is asked every time, with a warning for devices.
      assert.match(p.html, /Authorize access/)
      assert.match(p.html, /Only continue if you started this on your own device/)
      p = await b.submit(p, formAction(p.html, '/consent'), { decision: 'allow' })
      assert.equal(p.status, 200)
      assert.match(p.html, /Device connected/)

      const tokens = await poll(device.device_code)
      assert.equal(decodeJwt(tokens.access_token).sub, user.id)
      assert.ok(tokens.refresh_token)
      assert.equal((await apiGet(h, '/v1/messages', tokens.access_token)).status, 200)
    })

    await t.test('the device code cannot be redeemed twice', async () => {
      await assert.rejects(poll(device.device_code), (e: any) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant')
    })

    await t.test('a denied request ends with access_denied', async () => {
      const d2 = await oauth.processDeviceAuthorizationResponse(as, c,
        await oauth.deviceAuthorizationRequest(as, c, auth, new URLSearchParams({ scope: 'messages:read' }), insecure))
      const b = createBrowser(h.base)
      let p = await b.open(d2.verification_uri_complete ?? d2.verification_uri)
      if (/Connect a device/.test(p.html)) p = await b.submit(p, formAction(p.html, '/device'), { user_code: d2.user_code })
      p = await b.submit(p, formAction(p.html, '/device'), { abort: 'yes' })
      await assert.rejects(poll(d2.device_code), (e: any) => e instanceof oauth.ResponseBodyError && e.error === 'access_denied')
    })
  })
}
