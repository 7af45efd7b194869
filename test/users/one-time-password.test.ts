/**
 * Issue 13, finding 10 / item 6: the owner's one-time password printed at init
 * worked again and never had to be changed. Now it signs in once, and that session
 * can only replace it and enrol MFA: everything else is 403 password_change_required.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newId } from '../../src/core/ids.ts'
import { insertOrg } from '../../src/orgs/store.ts'
import { insertInvitation } from '../../src/users/membership-store.ts'
import { oauthUsersPort } from '../../src/users/oauth-port.ts'
import { hashToken, newToken } from '../../src/users/tokens.ts'
import { testDialects } from '../helpers/dialects.ts'
import type { TestApp } from '../helpers/harness.ts'
import { fillPath, label, routesOf } from '../http/every-route.shared.ts'
import { browser, buildUsersApp, enrolTotp, PASSWORD, type Browser } from './helpers.ts'

const NEW_PASSWORD = 'a brand new passphrase, 2026'

async function newOwner(h: TestApp, email = `owner-${Math.random().toString(36).slice(2, 8)}@example.com`) {
  const orgId = newId('org')
  await insertOrg(h.db, { id: orgId, name: 'Owned', created_at: h.clock.now().getTime() })
  const r = await h.app.users.accounts.createOwner(orgId, email)
  assert.ok(r.oneTimePassword)
  return { orgId, email, userId: r.userId, otp: r.oneTimePassword }
}

const login = (b: Browser, email: string, password: string) => b.send('POST', '/v1/auth/login', { email, password })
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])
let ips = 0
/** Each browser its own address: one case's failed sign-ins never throttle another's. */
const nextIp = () => `192.0.2.${++ips}`

for (const { name, skip } of await testDialects()) {
  test(`${name}: the one-time password signs in once, into a session that can only replace it and enrol MFA`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())

    await t.test('first use: a session at stage `password`; organization routes answer 403 password_change_required', async () => {
      const o = await newOwner(h)
      const b = browser(h, nextIp())
      const r = await login(b, o.email, o.otp)
      assert.equal(r.statusCode, 200)
      assert.equal(r.json().next, 'password')
      const keys = await b.send('GET', '/v1/keys')
      assert.equal(keys.statusCode, 403)
      assert.equal(keys.json().error.code, 'password_change_required')
      assert.equal((await b.send('GET', '/v1/auth/session')).json().next, 'password')
    })

    await t.test('second use fails like a wrong password (and is audited as a reuse)', async () => {
      const o = await newOwner(h)
      assert.equal((await login(browser(h, '198.51.100.31'), o.email, o.otp)).statusCode, 200)
      const again = await login(browser(h, '198.51.100.32'), o.email, o.otp)
      const wrong = await login(browser(h, '198.51.100.33'), o.email, 'not the password at all')
      assert.equal(again.statusCode, 401)
      assert.deepEqual(again.json(), wrong.json())
      await h.app.audit.writer.flush()
      const reasons = (await h.db.selectFrom('audit_events').select('details').where('action', '=', 'user.login_failed').where('actor_id', '=', o.userId).execute())
        .map((e) => JSON.parse(String(e.details)).reason)
      assert.deepEqual(reasons.sort(), ['one_time_password_reused', 'wrong_password'])
    })

    await t.test('two parallel sign-ins with it: exactly one gets a session', async () => {
      const o = await newOwner(h)
      const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => login(browser(h, `198.51.100.4${i}`), o.email, o.otp)))
      assert.deepEqual(rs.map((r) => r.statusCode).sort(), [200, 401, 401, 401])
    })

    await t.test('the route table: every scoped route and every `full` self-service route refuses the session with 403 password_change_required', async () => {
      const o = await newOwner(h)
      const b = browser(h, nextIp())
      assert.equal((await login(b, o.email, o.otp)).statusCode, 200)
      const guarded = routesOf(h).filter((r) => (r.config.scopes?.length ?? 0) > 0 || r.config.session === 'full')
      assert.ok(guarded.length > 30, `only ${guarded.length} guarded routes`)
      const wrong: string[] = []
      for (const r of guarded) {
        const res = await b.send(r.method, fillPath(r.url), WITH_BODY.has(r.method) ? {} : undefined)
        if (res.statusCode !== 403 || res.json().error?.code !== 'password_change_required') wrong.push(`${label(r)}: ${res.statusCode} ${res.body.slice(0, 80)}`)
      }
      assert.deepEqual(wrong, [])
      // What stays open is declared per route: `any` (session, sign-out, MFA enrolment) and `password` (the change itself).
      const open = routesOf(h).filter((r) => r.config.session === 'password').map(label)
      assert.deepEqual(open, ['POST /v1/users/me/password'])
    })

    await t.test('replace the password, then enrol MFA, then the organization opens; the old one-time password is dead', async () => {
      const o = await newOwner(h)
      const b = browser(h, nextIp())
      await login(b, o.email, o.otp)
      const same = await b.send('POST', '/v1/users/me/password', { currentPassword: o.otp, newPassword: o.otp })
      assert.equal(same.statusCode, 400)
      const changed = await b.send('POST', '/v1/users/me/password', { currentPassword: o.otp, newPassword: NEW_PASSWORD })
      assert.equal(changed.statusCode, 200, changed.body)
      // Owners must use MFA: the next stage is enrolment, still nothing else.
      assert.equal((await b.send('GET', '/v1/auth/session')).json().next, 'enrol')
      const keys = await b.send('GET', '/v1/keys')
      assert.equal(keys.json().error.code, 'mfa_required')
      await enrolTotp(h, b)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200)
      assert.equal((await login(browser(h, '198.51.100.50'), o.email, o.otp)).statusCode, 401)
      const fresh = await login(browser(h, '198.51.100.51'), o.email, NEW_PASSWORD)
      assert.equal(fresh.statusCode, 200)
      assert.equal(fresh.json().next, 'mfa')
    })

    await t.test('enrolling MFA first is allowed, but the password change is still owed', async () => {
      const o = await newOwner(h)
      const b = browser(h, nextIp())
      await login(b, o.email, o.otp)
      await enrolTotp(h, b)
      assert.equal((await b.send('GET', '/v1/keys')).json().error.code, 'password_change_required')
      assert.equal((await b.send('POST', '/v1/users/me/password', { currentPassword: o.otp, newPassword: NEW_PASSWORD })).statusCode, 200)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200)
    })

    await t.test('the OAuth login pages cannot spend it (they cannot offer the change): refused, and it still works in the dashboard', async () => {
      const o = await newOwner(h)
      const port = oauthUsersPort(h.app.users)
      assert.deepEqual(await port.checkPassword(o.email, o.otp, '198.51.100.60'), { ok: false, reason: 'invalid_credentials' })
      const r = await login(browser(h, nextIp()), o.email, o.otp)
      assert.equal(r.statusCode, 200)
      assert.equal(r.json().next, 'password')
    })

    await t.test('operator recovery (user reset-password): a new one-time password, every session signed out, same rules', async () => {
      const o = await newOwner(h)
      const first = browser(h, nextIp())
      await login(first, o.email, o.otp)
      const r = await h.app.users.accounts.issueOneTimePassword(o.email, { type: 'system', id: 'cli:test' }, 'lost the first session')
      assert.equal(r.sessionsRevoked, 1)
      assert.equal((await first.send('GET', '/v1/auth/session')).statusCode, 401)
      assert.equal((await login(browser(h, nextIp()), o.email, o.otp)).statusCode, 401, 'the old one is dead')
      const b = browser(h, nextIp())
      assert.equal((await login(b, o.email, r.oneTimePassword)).json().next, 'password')
      assert.equal((await login(browser(h, nextIp()), o.email, r.oneTimePassword)).statusCode, 401, 'single use')
      await h.app.audit.writer.flush()
      const ev = await h.db.selectFrom('audit_events').select(['actor_id', 'details']).where('action', '=', 'user.password_reset').where('target_id', '=', o.userId).executeTakeFirstOrThrow()
      assert.equal(ev.actor_id, 'cli:test')
      assert.ok(!String(ev.details).includes(r.oneTimePassword))
    })

    await t.test('accepting an invitation is closed to the one-time session too', async () => {
      const o = await newOwner(h)
      const orgId = newId('org')
      await insertOrg(h.db, { id: orgId, name: 'Inviting', created_at: h.clock.now().getTime() })
      const token = newToken()
      await insertInvitation(h.db, { id: newId('inv'), org_id: orgId, email: o.email, role: 'developer', token_hash: hashToken(token), invited_by: null, created_at: h.clock.now().getTime(), expires_at: h.clock.now().getTime() + 3_600_000, accepted_at: null, accepted_by: null, revoked_at: null })
      const b = browser(h, nextIp())
      await login(b, o.email, o.otp)
      const r = await b.send('POST', '/v1/invitations/accept', { token })
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'password_change_required')
    })

    await t.test('an owner created with a chosen password has no one-time stage', async () => {
      const orgId = newId('org')
      await insertOrg(h.db, { id: orgId, name: 'Chosen', created_at: h.clock.now().getTime() })
      const email = 'chosen-owner@example.com'
      const r = await h.app.users.accounts.createOwner(orgId, email, { password: PASSWORD })
      assert.equal(r.oneTimePassword, undefined)
      const b = browser(h, nextIp())
      assert.equal((await login(b, email, PASSWORD)).json().next, 'enrol')
      assert.equal((await login(browser(h, '198.51.100.70'), email, PASSWORD)).statusCode, 200, 'a chosen password is not single use')
    })
  })
}
