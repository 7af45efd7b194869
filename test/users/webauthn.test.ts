import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { addUser, browser, buildUsersApp, ORIGIN, PASSWORD } from './helpers.ts'
import { createSoftAuthenticator } from './authenticator.ts'

const RP_ID = new URL(ORIGIN).hostname

for (const { name, skip } of await testDialects()) {
  test(`${name}: passkeys (WebAuthn) with a software authenticator`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const owner = await addUser(h, org.orgId, 'owner')
    const device = createSoftAuthenticator()

    await t.test('registration ceremony: options → attestation (fmt none) → verified passkey, recovery codes, full session', async () => {
      const b = browser(h)
      assert.equal((await b.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })).json().next, 'enrol')
      const o = await b.send('POST', '/v1/users/me/passkeys/options')
      assert.equal(o.statusCode, 200)
      const options = o.json()
      assert.equal(options.rp.id, RP_ID)
      assert.equal(options.attestation, 'none')
      assert.ok(options.pubKeyCredParams.some((p: any) => p.alg === -7))
      const credential = device.create(options, ORIGIN)
      const r = await b.send('POST', '/v1/users/me/passkeys', { name: 'laptop', credential })
      assert.equal(r.statusCode, 201, r.body)
      assert.equal(r.json().passkey.id, device.credentialId.toString('base64url'))
      assert.equal(r.json().recoveryCodes.length, 10)
      assert.equal((await b.send('GET', '/v1/members')).statusCode, 200)
      const factors = (await b.send('GET', '/v1/users/me/mfa')).json()
      assert.equal(factors.passkeys.length, 1)
      assert.equal(factors.passkeys[0].name, 'laptop')
    })

    await t.test('authentication ceremony: options → signed assertion → signed in', async () => {
      const b = browser(h)
      const login = await b.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })
      assert.equal(login.json().next, 'mfa')
      assert.ok(login.json().methods.includes('webauthn'))
      const options = (await b.send('POST', '/v1/auth/mfa/webauthn/options')).json()
      assert.equal(options.rpId, RP_ID)
      assert.deepEqual(options.allowCredentials.map((c: any) => c.id), [device.credentialId.toString('base64url')])
      const r = await b.send('POST', '/v1/auth/mfa/webauthn', device.get(options, ORIGIN))
      assert.equal(r.statusCode, 200, r.body)
      assert.equal(r.json().next, 'full')
      assert.equal((await b.send('GET', '/v1/members')).statusCode, 200)
      const stored = await h.db.selectFrom('user_passkeys').select(['counter', 'last_used_at']).where('user_id', '=', owner.id).executeTakeFirstOrThrow()
      assert.equal(Number(stored.counter), device.signCount)
      assert.notEqual(stored.last_used_at, null)
    })

    await t.test('refuses an assertion for another origin, another RP, a reused challenge or a replayed signature', async () => {
      const attempt = async (mutate: (options: any) => any) => {
        const b = browser(h)
        await b.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })
        const options = (await b.send('POST', '/v1/auth/mfa/webauthn/options')).json()
        return { b, options, r: await b.send('POST', '/v1/auth/mfa/webauthn', mutate(options)) }
      }
      // Phishing site relaying the challenge.
      assert.equal((await attempt((o) => device.get(o, 'https://sealpost.test.evil.example'))).r.statusCode, 401)
      // Assertion scoped to another relying party.
      assert.equal((await attempt((o) => device.get(o, ORIGIN, { rpId: 'evil.example' }))).r.statusCode, 401)
      // A registration-type client data cannot pass as an assertion.
      assert.equal((await attempt((o) => device.get(o, ORIGIN, { type: 'webauthn.create' }))).r.statusCode, 401)
      // A captured assertion replayed: its challenge was consumed with the first use.
      const first = await attempt((o) => device.get(o, ORIGIN))
      assert.equal(first.r.statusCode, 200)
      const captured = device.get(first.options, ORIGIN)
      const b = browser(h)
      await b.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })
      await b.send('POST', '/v1/auth/mfa/webauthn/options')
      assert.equal((await b.send('POST', '/v1/auth/mfa/webauthn', captured)).statusCode, 401)
      // A tampered signature.
      const bad = await attempt((o) => {
        const a = device.get(o, ORIGIN)
        const sig = Buffer.from(a.response.signature, 'base64url')
        sig[sig.length - 1] ^= 1
        a.response.signature = sig.toString('base64url')
        return a
      })
      assert.equal(bad.r.statusCode, 401)
      // Without asking for options first there is no challenge to answer.
      const c = browser(h)
      await c.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })
      assert.equal((await c.send('POST', '/v1/auth/mfa/webauthn', device.get({ challenge: 'AAAA', rpId: RP_ID }, ORIGIN))).statusCode, 401)
    })

    await t.test('another user\'s passkey does not sign me in', async () => {
      const other = await addUser(h, org.orgId, 'developer')
      const b = browser(h)
      await b.send('POST', '/v1/auth/login', { email: other.email, password: PASSWORD })
      const options = await b.send('POST', '/v1/auth/mfa/webauthn/options')
      assert.equal(options.statusCode, 400)
      const forged = await b.send('POST', '/v1/auth/mfa/webauthn', device.get({ challenge: 'AAAA', rpId: RP_ID }, ORIGIN))
      assert.equal(forged.statusCode, 401)
    })

    await t.test('registration refuses a wrong origin and a challenge issued to another session', async () => {
      const dev = await addUser(h, org.orgId, 'developer')
      const a = browser(h)
      await a.send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })
      const options = (await a.send('POST', '/v1/users/me/passkeys/options')).json()
      const phone = createSoftAuthenticator()
      const wrongOrigin = await a.send('POST', '/v1/users/me/passkeys', { name: 'x', credential: phone.create(options, 'https://evil.example') })
      assert.equal(wrongOrigin.statusCode, 400)
      // The challenge was consumed by the failed attempt; and a second session never had it.
      const b = browser(h)
      await b.send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })
      const stolen = await b.send('POST', '/v1/users/me/passkeys', { name: 'x', credential: phone.create(options, ORIGIN) })
      assert.equal(stolen.statusCode, 400)
      assert.equal((await h.db.selectFrom('user_passkeys').select('id').where('user_id', '=', dev.id).execute()).length, 0)
    })
  })
}
