import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { addUser, browser, buildUsersApp, signIn } from './helpers.ts'

const MINUTE = 60_000

for (const { name, skip } of await testDialects()) {
  test(`${name}: sessions, CSRF and timeouts`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const dev = await addUser(h, org.orgId, 'developer')
    const newKey = { name: 'ci', environment: 'live', scopes: ['messages:send'] }

    await t.test('a state-changing request with the session cookie but no CSRF token is refused (403 csrf_failed)', async () => {
      const b = await signIn(h, dev.email)
      const r = await b.send('POST', '/v1/keys', newKey, { 'x-csrf-token': '' })
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'csrf_failed')
      const wrong = await b.send('POST', '/v1/keys', newKey, { 'x-csrf-token': 'f'.repeat(64) })
      assert.equal(wrong.statusCode, 403)
      assert.equal(wrong.json().error.code, 'csrf_failed')
    })

    await t.test('a cross-site POST is refused even with a valid token (Origin and Sec-Fetch-Site)', async () => {
      const b = await signIn(h, dev.email)
      const evil = await b.send('POST', '/v1/auth/logout', undefined, { origin: 'https://evil.example' })
      assert.equal(evil.statusCode, 403)
      assert.equal(evil.json().error.code, 'csrf_failed')
      const site = await b.send('POST', '/v1/auth/logout', undefined, { origin: '', 'sec-fetch-site': 'cross-site' })
      assert.equal(site.statusCode, 403)
      // Still signed in: the refused requests did nothing.
      assert.equal((await b.send('GET', '/v1/auth/session')).statusCode, 200)
    })

    await t.test('reads need no CSRF token; a bearer key on the same request wins over the cookie', async () => {
      const b = await signIn(h, dev.email)
      assert.equal((await b.send('GET', '/v1/keys', undefined, { 'x-csrf-token': '' })).statusCode, 200)
      const r = await h.http.inject({ method: 'POST', url: '/v1/keys', headers: { ...bearer(org.liveKey), cookie: `__Host-sid=${b.token}` }, payload: newKey })
      assert.equal(r.statusCode, 201)
      // Created by the API key (no step-up for machine credentials), not by the cookie's user.
      assert.equal(r.json().key.created_by, org.liveKeyId)
    })

    await t.test('a session idle for 30 minutes is over; activity keeps it alive', async () => {
      const b = await signIn(h, dev.email)
      h.clock.advance(20 * MINUTE)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200)
      h.clock.advance(20 * MINUTE)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200)
      h.clock.advance(30 * MINUTE)
      const r = await b.send('GET', '/v1/keys')
      assert.equal(r.statusCode, 401)
      assert.equal(r.json().error.code, 'unauthenticated')
    })

    await t.test('a session ends 12 hours after sign-in however active it is', async () => {
      const b = await signIn(h, dev.email)
      // 24 × 29 min = 11 h 36 min of steady activity: still signed in.
      for (let i = 1; i <= 24; i++) {
        h.clock.advance(29 * MINUTE)
        assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200, `after ${i * 29} min`)
      }
      h.clock.advance(29 * MINUTE)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 401)
    })

    await t.test('logout revokes the session and clears the cookie', async () => {
      const b = await signIn(h, dev.email)
      const token = b.token
      const r = await b.send('POST', '/v1/auth/logout')
      assert.equal(r.statusCode, 204)
      assert.match(String(r.headers['set-cookie']), /^__Host-sid=; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=0$/)
      const again = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { cookie: `__Host-sid=${token}` } })
      assert.equal(again.statusCode, 401)
    })

    await t.test('lists active sessions and signs out everywhere', async () => {
      const other = await addUser(h, org.orgId, 'analyst')
      const a = await signIn(h, other.email, { ip: '203.0.113.10' })
      const b = await signIn(h, other.email, { ip: '203.0.113.11' })
      const list = await a.send('GET', '/v1/sessions')
      assert.equal(list.statusCode, 200)
      const sessions = list.json().data
      assert.equal(sessions.length, 2)
      assert.equal(sessions.filter((s: any) => s.current).length, 1)
      assert.deepEqual(new Set(sessions.map((s: any) => s.ip)), new Set(['203.0.113.10', '203.0.113.11']))
      assert.ok(!list.body.includes(a.token!) && !list.body.includes(b.token!))
      // Another user's session id is not found (the store is scoped to the caller).
      const devSession = await signIn(h, dev.email)
      const devList = (await devSession.send('GET', '/v1/sessions')).json().data
      const foreign = await a.send('DELETE', `/v1/sessions/${devList[0].id}`)
      assert.equal(foreign.statusCode, 404)
      assert.equal((await devSession.send('GET', '/v1/keys')).statusCode, 200)
      // Logout everywhere.
      const all = await a.send('POST', '/v1/sessions/revoke-all')
      assert.equal(all.statusCode, 200)
      assert.equal(all.json().revoked, 2)
      assert.equal((await a.send('GET', '/v1/auth/session')).statusCode, 401)
      assert.equal((await b.send('GET', '/v1/auth/session')).statusCode, 401)
    })

    await t.test('revoking one of my other sessions ends it at once', async () => {
      const a = await signIn(h, dev.email)
      const b = await signIn(h, dev.email)
      const bId = (await b.send('GET', '/v1/auth/session')).json().session.id
      assert.equal((await a.send('DELETE', `/v1/sessions/${bId}`)).statusCode, 204)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 401)
      assert.equal((await a.send('GET', '/v1/keys')).statusCode, 200)
    })

    await t.test('housekeeping drops long-ended sessions and stale brute-force counters', async () => {
      await browser(h, '192.0.2.200').send('POST', '/v1/auth/login', { email: dev.email, password: 'not the password' })
      const count = async () => Number((await h.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
      const before = await count()
      assert.ok(before > 0)
      h.clock.advance(31 * 24 * 60 * MINUTE)
      const live = await signIn(h, dev.email)
      await h.app.users.prune()
      assert.equal(await count(), 1)
      assert.equal((await live.send('GET', '/v1/keys')).statusCode, 200)
      assert.equal((await h.db.selectFrom('auth_throttle').selectAll().execute()).length, 0)
    })

    await t.test('forged, malformed and duplicated cookies are refused', async () => {
      const forged = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { cookie: `__Host-sid=${'A'.repeat(43)}` } })
      assert.equal(forged.statusCode, 401)
      const malformed = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { cookie: '__Host-sid=../../etc' } })
      assert.equal(malformed.statusCode, 401)
      const b = await signIn(h, dev.email)
      const tossed = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { cookie: `__Host-sid=${b.token}; __Host-sid=${'B'.repeat(43)}` } })
      assert.equal(tossed.statusCode, 401)
      const none = await h.http.inject({ method: 'GET', url: '/v1/users/me' })
      assert.equal(none.statusCode, 401)
    })
  })
}
