import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { addUser, browser, buildUsersApp, PASSWORD, signIn } from './helpers.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: sign-in, cookies and brute force`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const dev = await addUser(h, org.orgId, 'developer')

    await t.test('sets a __Host- session cookie with HttpOnly, Secure, SameSite=Strict and Path=/', async () => {
      const b = browser(h)
      const r = await b.send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })
      assert.equal(r.statusCode, 200)
      const cookie = String(r.headers['set-cookie'])
      assert.match(cookie, /^__Host-sid=[A-Za-z0-9_-]{43}; /)
      const attrs = cookie.split('; ').slice(1)
      assert.deepEqual(new Set(attrs), new Set(['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict']))
      assert.equal(r.headers['cache-control'], 'no-store')
      const body = r.json()
      assert.equal(body.next, 'full')
      assert.equal(body.orgId, org.orgId)
      assert.match(body.csrfToken, /^[0-9a-f]{64}$/)
      // The session token is never in the body.
      assert.ok(!r.body.includes(b.token!))
    })

    await t.test('the session reaches organization routes with the role\'s scopes', async () => {
      const b = await signIn(h, dev.email)
      const r = await b.send('GET', '/v1/keys')
      assert.equal(r.statusCode, 200)
      const denied = await b.send('GET', '/v1/members')
      assert.equal(denied.statusCode, 403)
      assert.equal(denied.json().error.code, 'insufficient_scope')
    })

    await t.test('rotates the session id at sign-in: a planted (fixated) cookie is revoked, not reused', async () => {
      const attacker = await signIn(h, dev.email)
      const planted = attacker.token!
      const victim = browser(h)
      victim.token = planted
      const r = await victim.send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })
      assert.equal(r.statusCode, 200)
      assert.notEqual(victim.token, planted)
      const stale = await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { cookie: `__Host-sid=${planted}` } })
      assert.equal(stale.statusCode, 401)
      const fresh = await victim.send('GET', '/v1/keys')
      assert.equal(fresh.statusCode, 200)
    })

    await t.test('unknown user and wrong password get the identical status and body', async () => {
      const a = await browser(h, '198.51.100.1').send('POST', '/v1/auth/login', { email: 'nobody@example.com', password: 'whatever whatever' })
      const b = await browser(h, '198.51.100.2').send('POST', '/v1/auth/login', { email: dev.email, password: 'whatever whatever' })
      assert.equal(a.statusCode, 401)
      assert.equal(b.statusCode, a.statusCode)
      assert.deepEqual(b.json(), a.json())
      assert.deepEqual(a.json(), { error: { code: 'unauthenticated', message: 'Missing or invalid credentials.' } })
      assert.equal(a.headers['set-cookie'], undefined)
      assert.equal(b.headers['set-cookie'], undefined)
    })

    await t.test('every failure is audited with its reason (the reason is never sent to the caller)', async () => {
      await h.app.audit.writer.flush()
      const rows = await h.db.selectFrom('audit_events').select(['action', 'actor_id', 'details', 'ip']).where('action', '=', 'user.login_failed').execute()
      const reasons = rows.map((r) => JSON.parse(String(r.details ?? '{}')).reason)
      assert.ok(reasons.includes('unknown_user'), JSON.stringify(rows))
      assert.ok(reasons.includes('wrong_password'))
      assert.ok(rows.some((r) => r.ip === '198.51.100.1'))
    })

    await t.test('20 wrong passwords from one IP trigger exponential back-off (429 + Retry-After), whatever the account', async () => {
      const ip = '192.0.2.99'
      const statuses: number[] = []
      let retryAfter = 0
      for (let i = 0; i < 20; i++) {
        const r = await browser(h, ip).send('POST', '/v1/auth/login', { email: `victim${i}@example.com`, password: `guess number ${i}` })
        statuses.push(r.statusCode)
        if (r.statusCode === 429) retryAfter = Number(r.headers['retry-after'])
      }
      // Ten free attempts, then every one waits (refused attempts are not counted, so the wait does not grow).
      assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(10).fill(429)])
      assert.ok(retryAfter >= 1)
      // Even the right password is refused from that IP while it waits: no oracle while throttled.
      const blocked = await browser(h, ip).send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })
      assert.equal(blocked.statusCode, 429)
      assert.equal(blocked.json().error.code, 'rate_limited')
      // Another IP is unaffected.
      assert.equal((await browser(h, '192.0.2.100').send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })).statusCode, 200)
      // The wait doubles per failure: after it passes, one attempt is allowed again.
      h.clock.advance(retryAfter * 1000 + 1)
      assert.equal((await browser(h, ip).send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD })).statusCode, 200)
    })

    await t.test('per-account back-off locks the account against a distributed guesser, for known and unknown emails alike', async () => {
      const target = await addUser(h, org.orgId, 'analyst')
      const attempt = (email: string, i: number, password = `wrong guess ${i}`) =>
        browser(h, `10.0.${i}.1`).send('POST', '/v1/auth/login', { email, password })
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) statuses.push((await attempt(target.email, i)).statusCode)
      for (let i = 0; i < 6; i++) statuses.push((await attempt('ghost@example.com', i)).statusCode)
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 401, 401, 401, 401, 401, 429])
      const known = await attempt(target.email, 50, PASSWORD)
      const unknown = await attempt('ghost@example.com', 51, PASSWORD)
      assert.equal(known.statusCode, 429)
      assert.equal(unknown.statusCode, 429)
      assert.deepEqual(known.json(), unknown.json())
      h.clock.advance(16 * 60_000)
      assert.equal((await attempt(target.email, 52, PASSWORD)).statusCode, 200)
    })

    await t.test('refuses a cross-site sign-in (login CSRF) by Origin', async () => {
      const r = await browser(h).send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD }, { origin: 'https://evil.example' })
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'csrf_failed')
    })

    await t.test('refuses unknown fields and oversized passwords with 400, not 500', async () => {
      const extra = await browser(h).send('POST', '/v1/auth/login', { email: dev.email, password: PASSWORD, admin: true })
      assert.equal(extra.statusCode, 400)
      const huge = await browser(h).send('POST', '/v1/auth/login', { email: dev.email, password: 'x'.repeat(10_000) })
      assert.equal(huge.statusCode, 400)
      const inject = await browser(h).send('POST', '/v1/auth/login', { email: "' OR 1=1 --@x.io", password: "' OR '1'='1" })
      assert.equal(inject.statusCode, 401)
    })
  })
}
