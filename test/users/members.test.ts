import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { addUser, browser, buildUsersApp, enrolTotp, outbox, PASSWORD, signIn, totpAt } from './helpers.ts'
import { tokenFromMail } from '../../src/users/mail.ts'
import { effectiveScopes } from '../../src/users/effective-scopes.ts'
import { insertMembership } from '../../src/users/membership-store.ts'
import { BUILTIN_ROLES } from '../../src/access/roles.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: members, invitations and custom roles`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const other = await h.seedOrg('Other')
    const owner = await addUser(h, org.orgId, 'owner')
    const ob = await signIn(h, owner.email)
    const { secret } = await enrolTotp(h, ob)
    const stepUp = async () => {
      h.clock.advance(30_000)
      assert.equal((await ob.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, secret) })).statusCode, 200)
    }

    await t.test('effectiveScopes resolves built-in roles and is empty for non-members', async () => {
      assert.deepEqual(await effectiveScopes(h.db, org.orgId, owner.id), [...BUILTIN_ROLES.owner])
      assert.deepEqual(await effectiveScopes(h.db, other.orgId, owner.id), [])
    })

    let roleId = ''
    await t.test('creates a custom role from catalogue scopes; unknown scopes are refused', async () => {
      const bad = await ob.send('POST', '/v1/roles', { name: 'Sender', scopes: ['messages:send', 'root:everything'] })
      assert.equal(bad.statusCode, 400)
      assert.equal(bad.json().error.code, 'invalid_request')
      const clash = await ob.send('POST', '/v1/roles', { name: 'admin', scopes: ['messages:send'] })
      assert.equal(clash.statusCode, 409)
      const r = await ob.send('POST', '/v1/roles', { name: 'Sender', description: 'sends only', scopes: ['messages:send', 'messages:read'], conditions: { ipRanges: ['10.0.0.0/8'] } })
      assert.equal(r.statusCode, 201, r.body)
      roleId = r.json().id
      assert.match(roleId, /^role_/)
      const list = (await ob.send('GET', '/v1/roles')).json().data
      assert.ok(list.some((x: any) => x.builtin && x.name === 'support'))
      assert.ok(list.some((x: any) => x.id === roleId && !x.builtin))
    })

    let invitee = ''
    await t.test('invites by email; the token travels only by mail; accepting creates a verified account with the role', async () => {
      invitee = `new-${Date.now()}@example.com`
      const inv = await ob.send('POST', '/v1/invitations', { email: invitee, role: roleId })
      assert.equal(inv.statusCode, 201, inv.body)
      const token = tokenFromMail(outbox(h).last(invitee, 'invitation'))
      assert.ok(token)
      assert.ok(!inv.body.includes(token!))
      assert.equal((await ob.send('GET', '/v1/invitations')).json().data.length, 1)
      const weak = await browser(h).send('POST', '/v1/invitations/accept', { token, password: 'password1234' })
      assert.equal(weak.statusCode, 400)
      const b = browser(h)
      b.token = 'S'.repeat(43) // a stale cookie from an old session does not get in the way
      const ok = await b.send('POST', '/v1/invitations/accept', { token, password: PASSWORD, displayName: 'New Person' })
      assert.equal(ok.statusCode, 201, ok.body)
      assert.equal(ok.json().orgId, org.orgId)
      assert.equal(ok.json().next, 'full')
      // Signed in with the custom role's scopes and conditions.
      const s = (await b.send('GET', '/v1/auth/session')).json()
      assert.deepEqual(s.scopes, ['messages:send', 'messages:read'])
      assert.equal(s.user.emailVerified, true)
      // The token is single-use.
      assert.equal((await browser(h).send('POST', '/v1/invitations/accept', { token, password: PASSWORD })).statusCode, 404)
    })

    await t.test('an invitation for an existing user needs that user signed in', async () => {
      const existing = await addUser(h, other.orgId, 'analyst')
      await ob.send('POST', '/v1/invitations', { email: existing.email, role: 'support' })
      const token = tokenFromMail(outbox(h).last(existing.email, 'invitation'))
      const anonymous = await browser(h).send('POST', '/v1/invitations/accept', { token })
      assert.equal(anonymous.statusCode, 401)
      const stranger = await signIn(h, invitee)
      assert.equal((await stranger.send('POST', '/v1/invitations/accept', { token })).statusCode, 401)
      const me = await signIn(h, existing.email)
      const r = await me.send('POST', '/v1/invitations/accept', { token })
      assert.equal(r.statusCode, 200, r.body)
      assert.equal(r.json().orgId, org.orgId)
      assert.equal((await me.send('GET', '/v1/auth/session')).json().orgId, org.orgId)
    })

    await t.test('role changes are audited; nobody grants more than they hold; only owners make owners', async () => {
      const dev = await addUser(h, org.orgId, 'developer')
      await stepUp()
      const r = await ob.send('PATCH', `/v1/members/${dev.id}`, { role: 'analyst' })
      assert.equal(r.statusCode, 200, r.body)
      await h.app.audit.writer.flush()
      const rows = await h.db.selectFrom('audit_events').select(['actor_id', 'target_id', 'details', 'org_id']).where('action', '=', 'member.role_changed').execute()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].actor_id, owner.id)
      assert.equal(rows[0].target_id, dev.id)
      assert.deepEqual(JSON.parse(String(rows[0].details)), { fromRole: 'developer', toRole: 'analyst' })
      // An admin may not make someone an owner.
      const admin = await addUser(h, org.orgId, 'admin')
      const ab = await signIn(h, admin.email)
      await enrolTotp(h, ab) // enrolment counts as a fresh factor: the admin is inside the step-up window
      const toOwner = await ab.send('PATCH', `/v1/members/${dev.id}`, { role: 'owner' })
      assert.equal(toOwner.statusCode, 403)
      const demoteOwner = await ab.send('PATCH', `/v1/members/${owner.id}`, { role: 'developer' })
      assert.equal(demoteOwner.statusCode, 403)
      // A key with org:admin but without contacts:pii cannot grant marketer (which has it).
      const narrow = await h.http.inject({ method: 'POST', url: '/v1/keys', headers: bearer(org.liveKey), payload: { name: 'narrow', environment: 'live', scopes: ['org:admin', 'messages:send'] } })
      assert.equal(narrow.statusCode, 201, narrow.body)
      const nk = narrow.json().secret
      const grant = await h.http.inject({ method: 'PATCH', url: `/v1/members/${dev.id}`, headers: bearer(nk), payload: { role: 'marketer' } })
      assert.equal(grant.statusCode, 403)
      assert.deepEqual(grant.json().error.details.scopes.sort(), ['contacts:pii', 'contacts:read', 'contacts:write', 'messages:read', 'suppressions:manage', 'templates:read', 'templates:write', 'analytics:read'].sort())
    })

    await t.test('the last owner cannot be demoted or removed', async () => {
      await stepUp()
      const r = await ob.send('PATCH', `/v1/members/${owner.id}`, { role: 'admin' })
      assert.equal(r.statusCode, 409)
      assert.equal((await ob.send('DELETE', `/v1/members/${owner.id}`)).statusCode, 409)
    })

    await t.test('another organization\'s members, roles and invitations are not found', async () => {
      await stepUp()
      const stranger = await addUser(h, other.orgId, 'developer')
      assert.equal((await ob.send('PATCH', `/v1/members/${stranger.id}`, { role: 'analyst' })).statusCode, 404)
      assert.equal((await ob.send('DELETE', `/v1/members/${stranger.id}`)).statusCode, 404)
      const foreignRole = await h.http.inject({ method: 'POST', url: '/v1/roles', headers: bearer(other.liveKey), payload: { name: 'theirs', scopes: ['messages:read'] } })
      assert.equal(foreignRole.statusCode, 201)
      const theirs = foreignRole.json().id
      assert.equal((await ob.send('PATCH', `/v1/roles/${theirs}`, { scopes: ['messages:send'] })).statusCode, 404)
      assert.equal((await ob.send('DELETE', `/v1/roles/${theirs}`)).statusCode, 404)
      const dev = await addUser(h, org.orgId, 'developer')
      assert.equal((await ob.send('PATCH', `/v1/members/${dev.id}`, { role: theirs })).statusCode, 404)
      const foreignInv = await h.http.inject({ method: 'POST', url: '/v1/invitations', headers: bearer(other.liveKey), payload: { email: 'z@example.com', role: 'support' } })
      assert.equal(foreignInv.statusCode, 201)
      assert.equal((await ob.send('DELETE', `/v1/invitations/${foreignInv.json().id}`)).statusCode, 404)
      assert.ok(!(await ob.send('GET', '/v1/members')).body.includes(stranger.email))
    })

    await t.test('a role in use cannot be deleted; editing it changes its members\' scopes at once', async () => {
      await stepUp()
      assert.equal((await ob.send('DELETE', `/v1/roles/${roleId}`)).statusCode, 409)
      const upd = await ob.send('PATCH', `/v1/roles/${roleId}`, { scopes: ['messages:read'] })
      assert.equal(upd.statusCode, 200, upd.body)
      const b = await signIn(h, invitee)
      assert.deepEqual((await b.send('GET', '/v1/auth/session')).json().scopes, ['messages:read'])
      assert.equal((await b.send('POST', '/v1/keys', { name: 'x', environment: 'live', scopes: ['messages:read'] })).statusCode, 403)
    })

    await t.test('email verification: link token verifies once; unverified users cannot act in an org', async () => {
      const u = await h.app.users.accounts.createUser({ email: `unverified-${Date.now()}@example.com`, password: PASSWORD, displayName: 'U', emailVerified: false })
      await insertMembership(h.db, org.orgId, u.id, 'analyst', h.clock.now().getTime())
      const b = await signIn(h, u.email)
      const blocked = await b.send('GET', '/v1/members')
      assert.equal(blocked.statusCode, 403)
      assert.equal(blocked.json().error.details.next, 'verify_email')
      assert.equal((await b.send('POST', '/v1/auth/verify-email/send')).statusCode, 202)
      const token = tokenFromMail(outbox(h).last(u.email, 'verify_email'))
      assert.equal((await browser(h).send('POST', '/v1/auth/verify-email', { token: 'A'.repeat(43) })).statusCode, 404)
      assert.equal((await browser(h).send('POST', '/v1/auth/verify-email', { token })).statusCode, 200)
      assert.equal((await browser(h).send('POST', '/v1/auth/verify-email', { token })).statusCode, 404)
      assert.equal((await b.send('GET', '/v1/auth/session')).json().user.emailVerified, true)
    })
  })
}
