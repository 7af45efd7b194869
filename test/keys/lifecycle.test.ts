import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { HOUR, MINUTE, DAY } from '../../src/core/clock.ts'
import { call, seedKey } from './helpers.ts'
import { createKeyService } from '../../src/keys/service.ts'
import { createOrgKeyPolicy } from '../../src/keys/policy.ts'
import { discardAudit } from '../../src/core/audit-sink.ts'

const works = async (h: Parameters<typeof call>[0], key: string) => (await call(h, key, 'GET', '/v1/keys/policy')).statusCode

for (const { name, skip } of await testDialects()) {
  test(`${name}: API key lifecycle`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const other = await h.seedOrg('Other')
    const create = (body: object, key = org.liveKey) => call(h, key, 'POST', '/v1/keys', body)

    await t.test('create returns the secret once; list and get never show it, its hash or its lookup id', async () => {
      const r = await create({ name: 'ci', scopes: ['keys:manage', 'messages:read'], environment: 'live' })
      assert.equal(r.statusCode, 201)
      assert.equal(r.headers['cache-control'], 'no-store')
      const { key, secret } = r.json()
      assert.match(secret, /^sp_live_/)
      assert.equal(key.last4, secret.slice(-4))
      assert.equal(key.created_by, org.liveKeyId)
      assert.deepEqual(key.scopes, ['keys:manage', 'messages:read'])
      assert.equal(await works(h, secret), 200)

      const lookupId = secret.split('_')[2]
      const list = await call(h, org.liveKey, 'GET', '/v1/keys')
      const one = await call(h, org.liveKey, 'GET', `/v1/keys/${key.id}`)
      for (const res of [list, one]) {
        assert.equal(res.statusCode, 200)
        assert.ok(!res.body.includes(secret.slice(20)), 'secret must not appear')
        assert.ok(!res.body.includes(lookupId), 'lookup id must not appear')
        assert.ok(!/"(hash|secret|lookup_id|org_id)"/.test(res.body), 'no internal fields')
      }
      const got = one.json()
      for (const field of ['id', 'name', 'last4', 'scopes', 'created_by', 'created_at', 'expires_at', 'last_used_at', 'last_used_ip']) {
        assert.ok(field in got, field)
      }
      assert.equal(got.last_used_ip, '127.0.0.1')
      assert.ok(list.json().data.some((k: any) => k.id === key.id))
    })

    await t.test('last use records the time and the client IP', async () => {
      const { secret, id } = await seedKey(h, { orgId: org.orgId })
      h.clock.advance(5 * MINUTE)
      await call(h, secret, 'GET', '/v1/keys/policy', undefined, { remoteAddress: '2001:db8::7' })
      const got = (await call(h, org.liveKey, 'GET', `/v1/keys/${id}`)).json()
      assert.equal(got.last_used_ip, '2001:db8::7')
      assert.equal(got.last_used_at, h.clock.now().toISOString())
    })

    await t.test("a key's scopes must be a subset of its creator's", async () => {
      const narrow = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage', 'messages:read'] })
      const r = await create({ name: 'x', scopes: ['messages:send'], environment: 'live' }, narrow.secret)
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'insufficient_scope')
      assert.deepEqual(r.json().error.details.scopes, ['messages:send'])
      const ok = await create({ name: 'x', scopes: ['messages:read'], environment: 'live' }, narrow.secret)
      assert.equal(ok.statusCode, 201)
    })

    await t.test('unknown scopes, unknown fields and oversized names are 400', async () => {
      for (const body of [
        { name: 'x', scopes: ['root'], environment: 'live' },
        { name: 'x', scopes: ['keys:manage'], environment: 'live', admin: true },
        { name: 'x'.repeat(101), scopes: ['keys:manage'], environment: 'live' },
        { name: 'x', scopes: [], environment: 'live' },
        { name: 'x', scopes: ['keys:manage'], environment: 'prod' },
        { name: 'x', scopes: ['keys:manage'], environment: 'live', conditions: { ip_ranges: ['10.0.0.0/33'] } },
      ]) {
        const r = await create(body)
        assert.equal(r.statusCode, 400, JSON.stringify(body))
        assert.equal(r.json().error.code, 'invalid_request')
      }
    })

    await t.test('a test-environment key cannot mint a live key', async () => {
      const r = await create({ name: 'x', scopes: ['keys:manage'], environment: 'live' }, org.testKey)
      assert.equal(r.statusCode, 403)
      const ok = await create({ name: 'x', scopes: ['keys:manage'], environment: 'test' }, org.testKey)
      assert.equal(ok.statusCode, 201)
      assert.match(ok.json().secret, /^sp_test_/)
    })

    await t.test('rotation: the old secret works inside the grace window (default 24 h) and fails after', async () => {
      const { secret: old, id } = await seedKey(h, { orgId: org.orgId })
      const r = await call(h, org.liveKey, 'POST', `/v1/keys/${id}/rotate`)
      assert.equal(r.statusCode, 200)
      const { secret: fresh, previous_secret_expires_at } = r.json()
      assert.notEqual(fresh, old)
      assert.equal(Date.parse(previous_secret_expires_at), h.clock.now().getTime() + 24 * HOUR)
      assert.equal(await works(h, old), 200)
      assert.equal(await works(h, fresh), 200)
      h.clock.advance(24 * HOUR - 1000)
      assert.equal(await works(h, old), 200, 'still inside the window')
      h.clock.advance(1000)
      const late = await call(h, old, 'GET', '/v1/keys/policy')
      assert.equal(late.statusCode, 401)
      assert.equal(late.json().error.code, 'unauthenticated')
      assert.equal(await works(h, fresh), 200)
    })

    await t.test('rotation grace is configurable per call, within bounds', async () => {
      const a = await seedKey(h, { orgId: org.orgId })
      const r = await call(h, org.liveKey, 'POST', `/v1/keys/${a.id}/rotate`, { grace_period_seconds: 60 })
      assert.equal(r.statusCode, 200)
      h.clock.advance(59_000)
      assert.equal(await works(h, a.secret), 200)
      h.clock.advance(1000)
      assert.equal(await works(h, a.secret), 401)

      const b = await seedKey(h, { orgId: org.orgId })
      assert.equal((await call(h, org.liveKey, 'POST', `/v1/keys/${b.id}/rotate`, { grace_period_seconds: 0 })).statusCode, 200)
      assert.equal(await works(h, b.secret), 401, 'grace 0: the old secret dies at once')

      for (const grace of [-1, 8 * 24 * 3600, 1.5]) {
        const bad = await call(h, org.liveKey, 'POST', `/v1/keys/${b.id}/rotate`, { grace_period_seconds: grace })
        assert.equal(bad.statusCode, 400, String(grace))
      }
    })

    await t.test('a second rotation ends the first grace window at once: never more than two live secrets', async () => {
      const { secret: first, id } = await seedKey(h, { orgId: org.orgId })
      const second = (await call(h, org.liveKey, 'POST', `/v1/keys/${id}/rotate`)).json().secret
      const third = (await call(h, org.liveKey, 'POST', `/v1/keys/${id}/rotate`)).json().secret
      assert.equal(await works(h, first), 401)
      assert.equal(await works(h, second), 200)
      assert.equal(await works(h, third), 200)
    })

    await t.test('concurrent rotations still leave one current secret and at most two live ones', async () => {
      const { id } = await seedKey(h, { orgId: org.orgId })
      const results = await Promise.all([1, 2, 3].map(() => call(h, org.liveKey, 'POST', `/v1/keys/${id}/rotate`)))
      assert.deepEqual(results.map((r) => r.statusCode), [200, 200, 200])
      const now = h.clock.now().getTime()
      const secrets = await h.db.selectFrom('api_key_secrets').select(['expires_at']).where('key_id', '=', id).execute()
      assert.equal(secrets.filter((s) => s.expires_at === null).length, 1, 'exactly one current secret')
      assert.ok(secrets.filter((s) => s.expires_at === null || s.expires_at > now).length <= 2, JSON.stringify(secrets))
    })

    await t.test('revoke takes effect on the next request, and a revoked key cannot be rotated back', async () => {
      const { secret, id } = await seedKey(h, { orgId: org.orgId })
      assert.equal(await works(h, secret), 200)
      const r = await call(h, org.liveKey, 'POST', `/v1/keys/${id}/revoke`)
      assert.equal(r.statusCode, 200)
      assert.equal(r.json().status, 'revoked')
      assert.equal(r.json().revoked_reason, 'manual')
      assert.equal(await works(h, secret), 401)
      const again = await call(h, org.liveKey, 'POST', `/v1/keys/${id}/rotate`)
      assert.equal(again.statusCode, 409)
    })

    await t.test('a key that revokes itself is refused from the next request on', async () => {
      const { secret, id } = await seedKey(h, { orgId: org.orgId })
      assert.equal((await call(h, secret, 'POST', `/v1/keys/${id}/revoke`)).statusCode, 200)
      assert.equal(await works(h, secret), 401)
    })

    await t.test('expired keys fail; an expiry in the past is refused', async () => {
      const expiresAt = new Date(h.clock.now().getTime() + HOUR).toISOString()
      const r = await create({ name: 'short', scopes: ['keys:manage'], environment: 'live', expires_at: expiresAt })
      assert.equal(r.statusCode, 201)
      const { secret, key } = r.json()
      assert.equal(key.expires_at, expiresAt)
      const before = await call(h, secret, 'GET', '/v1/keys/policy')
      assert.equal(before.statusCode, 200)
      assert.equal(before.headers['sealpost-key-expires'], expiresAt)
      h.clock.advance(HOUR)
      assert.equal(await works(h, secret), 401)
      assert.equal((await call(h, org.liveKey, 'GET', `/v1/keys/${key.id}`)).json().status, 'expired')
      const past = await create({ name: 'x', scopes: ['keys:manage'], environment: 'live', expires_at: new Date(h.clock.now().getTime() - 1).toISOString() })
      assert.equal(past.statusCode, 400)
    })

    await t.test('a suspended key gets 403 key_suspended until an administrator reinstates it', async () => {
      const keys = createKeyService({ db: h.db, pepper: h.app.deps.pepper, clock: h.clock, audit: discardAudit, policy: createOrgKeyPolicy({ db: h.db, clock: h.clock }) })
      const { secret, id } = await seedKey(h, { orgId: org.orgId })
      assert.equal(await keys.suspend(org.orgId, id, 'volume 10x baseline from a new IP'), true)
      assert.equal(await keys.suspend(org.orgId, id, 'again'), false, 'already suspended')
      h.app.monitoring.enforcement.markSuspended(id) // as monitoring's responder does, bridging to the column
      const r = await call(h, secret, 'GET', '/v1/keys/policy')
      assert.equal(r.statusCode, 403)
      assert.equal(r.json().error.code, 'key_suspended')
      const seen = (await call(h, org.liveKey, 'GET', `/v1/keys/${id}`)).json()
      assert.equal(seen.status, 'suspended')
      assert.equal(seen.suspended_reason, 'volume 10x baseline from a new IP')
      const back = await call(h, org.liveKey, 'POST', `/v1/keys/${id}/reinstate`)
      assert.equal(back.statusCode, 200)
      assert.equal(back.json().status, 'active')
      assert.equal(await works(h, secret), 200, 'reinstated at once, in-memory enforcement included')
      assert.equal(await keys.suspend(other.orgId, id, 'wrong org'), false, 'suspension is org-scoped too')
    })

    await t.test('a key with less access cannot rotate or revoke a wider key', async () => {
      const narrow = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage'] })
      const wide = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage', 'messages:send'] })
      for (const op of ['rotate', 'revoke']) {
        const r = await call(h, narrow.secret, 'POST', `/v1/keys/${wide.id}/${op}`)
        assert.equal(r.statusCode, 403, op)
        assert.ok(!r.body.includes('sp_live_'))
      }
      assert.equal(await works(h, wide.secret), 200)
      const unrestricted = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage'] })
      const fenced = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage'], conditions: { ipRanges: ['127.0.0.0/8'] } })
      assert.equal((await call(h, fenced.secret, 'POST', `/v1/keys/${unrestricted.id}/rotate`)).statusCode, 403, 'conditions count too')
    })
  })

  test(`${name}: organization maximum key age`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const admin = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage', 'org:admin'] })

    const set = await call(h, admin.secret, 'PUT', '/v1/keys/policy', { max_key_age_days: 30 })
    assert.equal(set.statusCode, 200)
    assert.deepEqual(set.json(), { max_key_age_days: 30, key_expiry_warning_days: 7 })
    assert.equal((await call(h, org.liveKey, 'GET', '/v1/keys/policy')).json().max_key_age_days, 30)
    const managerOnly = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage'] })
    assert.equal((await call(h, managerOnly.secret, 'PUT', '/v1/keys/policy', { max_key_age_days: null })).statusCode, 403)

    const born = h.clock.now().getTime()
    const { secret, id } = await seedKey(h, { orgId: org.orgId })
    const expires = new Date(born + 30 * DAY).toISOString()

    await t.test('responses carry the expiry date, and the warning only inside the warning window', async () => {
      h.clock.set(new Date(born + 20 * DAY))
      const early = await call(h, secret, 'GET', '/v1/keys/policy')
      assert.equal(early.statusCode, 200)
      assert.equal(early.headers['sealpost-key-expires'], expires)
      assert.equal(early.headers['sealpost-key-warning'], undefined)
      h.clock.set(new Date(born + 24 * DAY))
      const late = await call(h, secret, 'GET', '/v1/keys/policy')
      assert.equal(late.headers['sealpost-key-expires'], expires)
      assert.equal(late.headers['sealpost-key-warning'], 'expiring')
      assert.equal((await call(h, admin.secret, 'GET', `/v1/keys/${id}`)).json().expires_at, expires)
    })

    await t.test('a key over the maximum age stops working', async () => {
      h.clock.set(new Date(born + 30 * DAY))
      const r = await call(h, secret, 'GET', '/v1/keys/policy')
      assert.equal(r.statusCode, 401)
      assert.equal(r.json().error.message, 'Missing or invalid credentials.')
    })

    await t.test('rotation issues a fresh secret, which is how a key stays within the maximum age', async () => {
      const other = await seedKey(h, { orgId: org.orgId })
      h.clock.advance(25 * DAY)
      const manager = await seedKey(h, { orgId: org.orgId })
      const r = await call(h, manager.secret, 'POST', `/v1/keys/${other.id}/rotate`, { grace_period_seconds: 0 })
      assert.equal(r.statusCode, 200)
      h.clock.advance(10 * DAY)
      assert.equal(await works(h, r.json().secret), 200)
      assert.equal(await works(h, other.secret), 401)
    })

    await t.test('removing the policy lifts the limit', async () => {
      const fresh = await seedKey(h, { orgId: org.orgId, scopes: ['keys:manage', 'org:admin'] })
      assert.equal((await call(h, fresh.secret, 'PUT', '/v1/keys/policy', { max_key_age_days: null })).json().max_key_age_days, null)
      h.clock.advance(400 * DAY)
      assert.equal(await works(h, fresh.secret), 200)
      assert.equal((await call(h, fresh.secret, 'GET', '/v1/keys/policy')).headers['sealpost-key-expires'], undefined)
    })
  })
}
