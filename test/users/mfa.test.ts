import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { addUser, browser, buildUsersApp, enrolTotp, PASSWORD, signIn, totpAt } from './helpers.ts'
import { createStepUp, requireStepUp } from '../../src/users/step-up.ts'
import { createTestClock } from '../../src/core/clock.ts'
import { AppError } from '../../src/core/errors.ts'
import type { Principal } from '../../src/core/principal.ts'

const MINUTE = 60_000
const newKey = { name: 'ci', environment: 'live', scopes: ['messages:send'] }

test('requireStepUp: session users need a second factor within the window; machine credentials are exempt', () => {
  const clock = createTestClock('2026-05-01T10:00:00Z')
  const stepUp = createStepUp({ clock, windowMs: 5 * MINUTE })
  const user: Principal = { orgId: 'org_x', actor: { type: 'user', id: 'usr_x' }, scopes: [], environment: 'live', credentialId: 'ses_x', mfaVerifiedAt: clock.now().getTime() }
  stepUp.require(user)
  clock.advance(5 * MINUTE)
  assert.throws(() => stepUp.require(user), (e: unknown) => e instanceof AppError && e.code === 'step_up_required' && e.status === 403)
  assert.throws(() => stepUp.require({ ...user, mfaVerifiedAt: null }), /Confirm it is you/)
  // A timestamp from the future (clock skew, forgery) does not count as fresh.
  assert.throws(() => requireStepUp({ ...user, mfaVerifiedAt: clock.now().getTime() + MINUTE }, clock.now().getTime()))
  stepUp.require({ ...user, actor: { type: 'key', id: 'key_x' }, mfaVerifiedAt: undefined })
  stepUp.require({ ...user, actor: { type: 'oauth_client', id: 'cli_x' }, mfaVerifiedAt: undefined })
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: mandatory MFA, second factors and step-up`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const admin = await addUser(h, org.orgId, 'admin')
    let adminSecret = ''
    let adminCodes: string[] = []

    await t.test('an admin without MFA reaches nothing but enrolment', async () => {
      const b = browser(h)
      const login = await b.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      assert.equal(login.statusCode, 200)
      assert.equal(login.json().next, 'enrol')
      for (const [method, url, body] of [['GET', '/v1/members'], ['GET', '/v1/keys'], ['POST', '/v1/keys', newKey], ['GET', '/v1/sessions'], ['GET', '/v1/roles'], ['POST', '/v1/invitations', { email: 'x@example.com', role: 'analyst' }]] as const) {
        const r = await b.send(method, url, body)
        assert.equal(r.statusCode, 401, `${method} ${url}`)
        assert.equal(r.json().error.code, 'mfa_required', `${method} ${url}`)
        assert.equal(r.json().error.details.next, 'enrol')
      }
      assert.equal((await b.send('GET', '/v1/auth/session')).json().scopes.length, 0)
      const before = b.token
      const { secret, recoveryCodes } = await enrolTotp(h, b)
      adminSecret = secret
      adminCodes = recoveryCodes
      assert.equal(recoveryCodes.length, 10)
      assert.equal(new Set(recoveryCodes).size, 10)
      // Enrolment is a privilege change: new token; the old one is dead.
      assert.notEqual(b.token, before)
      assert.equal((await h.http.inject({ method: 'GET', url: '/v1/members', headers: { cookie: `__Host-sid=${before}` } })).statusCode, 401)
      assert.equal((await b.send('GET', '/v1/members')).statusCode, 200)
      // Recovery codes are stored hashed only.
      const stored = await h.db.selectFrom('user_recovery_codes').select('code_hash').where('user_id', '=', admin.id).execute()
      assert.equal(stored.length, 10)
      for (const c of recoveryCodes) assert.ok(!stored.some((s) => s.code_hash.includes(c.replace(/-/g, ''))))
      // The TOTP secret is encrypted at rest.
      const totpRow = await h.db.selectFrom('user_totp').select('secret').where('user_id', '=', admin.id).executeTakeFirstOrThrow()
      assert.ok(!totpRow.secret.includes(secret))
    })

    await t.test('after the password, a user with MFA must give the second factor before anything else', async () => {
      const b = browser(h)
      const login = await b.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      assert.equal(login.json().next, 'mfa')
      assert.deepEqual(login.json().methods, ['totp', 'recovery_code'])
      const blocked = await b.send('GET', '/v1/keys')
      assert.equal(blocked.statusCode, 401)
      assert.equal(blocked.json().error.details.next, 'mfa')
      // A stolen password alone cannot add the thief's authenticator.
      const enrol = await b.send('POST', '/v1/users/me/passkeys/options')
      assert.equal(enrol.statusCode, 401)
      assert.equal(enrol.json().error.code, 'mfa_required')
      const wrong = await b.send('POST', '/v1/auth/mfa/totp', { code: '000000' === await totpAt(h, adminSecret) ? '111111' : '000000' })
      assert.equal(wrong.statusCode, 401)
      const pending = b.token
      const ok = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, adminSecret) })
      assert.equal(ok.statusCode, 200)
      assert.equal(ok.json().next, 'full')
      assert.notEqual(b.token, pending)
      assert.equal((await b.send('GET', '/v1/keys')).statusCode, 200)
    })

    await t.test('the same TOTP code is refused the second time (replay)', async () => {
      h.clock.advance(30_000)
      const code = await totpAt(h, adminSecret)
      const a = browser(h)
      await a.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      assert.equal((await a.send('POST', '/v1/auth/mfa/totp', { code })).statusCode, 200)
      const b = browser(h)
      await b.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      const replay = await b.send('POST', '/v1/auth/mfa/totp', { code })
      assert.equal(replay.statusCode, 401)
      assert.equal(replay.json().error.message, 'The code or passkey was not accepted.')
      await h.app.audit.writer.flush()
      const rows = await h.db.selectFrom('audit_events').select('details').where('action', '=', 'user.mfa_failed').execute()
      assert.ok(rows.some((r) => JSON.parse(String(r.details)).reason === 'replayed'))
    })

    await t.test('step-up: key creation demands a fresh second factor and a fresh factor satisfies it', async () => {
      h.clock.advance(30_000)
      const b = await signIn(h, admin.email, { totpSecret: adminSecret })
      assert.equal((await b.send('POST', '/v1/keys', newKey)).statusCode, 201)
      h.clock.advance(6 * MINUTE)
      const stale = await b.send('POST', '/v1/keys', newKey)
      assert.equal(stale.statusCode, 403)
      assert.equal(stale.json().error.code, 'step_up_required')
      assert.equal((await b.send('GET', '/v1/auth/session')).json().session.stepUpFresh, false)
      const step = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, adminSecret) })
      assert.equal(step.statusCode, 200)
      const fresh = await b.send('POST', '/v1/keys', newKey)
      assert.equal(fresh.statusCode, 201)
      assert.match(fresh.json().secret, /^sp_live_/)
      // Role changes are sensitive too.
      h.clock.advance(6 * MINUTE)
      const dev = await addUser(h, org.orgId, 'developer')
      const change = await b.send('PATCH', `/v1/members/${dev.id}`, { role: 'analyst' })
      assert.equal(change.statusCode, 403)
      assert.equal(change.json().error.code, 'step_up_required')
    })

    await t.test('a recovery code works once', async () => {
      const a = browser(h)
      await a.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      const used = await a.send('POST', '/v1/auth/mfa/recovery', { code: adminCodes[0].toUpperCase() })
      assert.equal(used.statusCode, 200)
      assert.equal(used.json().recoveryCodesLeft, 9)
      const b = browser(h)
      await b.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      assert.equal((await b.send('POST', '/v1/auth/mfa/recovery', { code: adminCodes[0] })).statusCode, 401)
      assert.equal((await b.send('POST', '/v1/auth/mfa/recovery', { code: adminCodes[1].replace(/-/g, '') })).statusCode, 200)
    })

    await t.test('guessing second-factor codes backs off per user', async () => {
      const b = browser(h, '198.51.100.77')
      await b.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })
      const right = await totpAt(h, adminSecret)
      const statuses: number[] = []
      for (let i = 0; i < 8; i++) {
        const guess = String(100000 + i)
        statuses.push((await b.send('POST', '/v1/auth/mfa/totp', { code: guess === right ? '999999' : guess })).statusCode)
      }
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401])
      assert.equal(statuses.at(-1), 429)
      // Even the right code waits: the back-off is not an oracle.
      assert.equal((await b.send('POST', '/v1/auth/mfa/totp', { code: right })).statusCode, 429)
      h.clock.advance(20 * MINUTE)
    })

    await t.test('an organization can require MFA of every member', async () => {
      const dev = await addUser(h, org.orgId, 'developer')
      const d = await signIn(h, dev.email)
      assert.equal((await d.send('GET', '/v1/keys')).statusCode, 200)
      h.clock.advance(30_000)
      const a = await signIn(h, admin.email, { totpSecret: adminSecret })
      const set = await a.send('PUT', '/v1/auth/policy', { requireMfa: true })
      assert.equal(set.statusCode, 200)
      assert.equal(set.json().requireMfa, true)
      const r = await d.send('GET', '/v1/keys')
      assert.equal(r.statusCode, 401)
      assert.equal(r.json().error.details.next, 'enrol')
      await enrolTotp(h, d)
      assert.equal((await d.send('GET', '/v1/keys')).statusCode, 200)
      assert.equal((await a.send('PUT', '/v1/auth/policy', { requireMfa: false })).statusCode, 200)
    })

    await t.test('an admin cannot remove their last second factor', async () => {
      h.clock.advance(30_000)
      const a = await signIn(h, admin.email, { totpSecret: adminSecret })
      const r = await a.send('DELETE', '/v1/users/me/mfa/totp')
      assert.equal(r.statusCode, 409)
      assert.equal(r.json().error.code, 'conflict')
    })

    await t.test('operator MFA reset removes every factor, signs the user out and is audited', async () => {
      h.clock.advance(30_000)
      const a = await signIn(h, admin.email, { totpSecret: adminSecret })
      const r = await h.app.users.accounts.resetMfa(admin.email, { type: 'system', id: 'cli' }, 'lost phone')
      assert.ok(r.sessionsRevoked >= 1)
      assert.equal((await a.send('GET', '/v1/keys')).statusCode, 401)
      const again = browser(h)
      assert.equal((await again.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })).json().next, 'enrol')
      await h.app.audit.writer.flush()
      const rows = await h.db.selectFrom('audit_events').select(['actor_type', 'actor_id', 'target_id', 'details']).where('action', '=', 'mfa.reset').execute()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].target_id, admin.id)
      assert.equal(JSON.parse(String(rows[0].details)).reason, 'lost phone')
    })
  })
}
