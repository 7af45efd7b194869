import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { buildUsersApp } from './helpers.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

// Custom-role ABAC conditions are validated like key conditions, and a caller can only hand out
// conditions at least as narrow as its own (a restricted admin cannot mint an unrestricted role).
for (const { name, skip } of await testDialects()) {
  test(`${name}: custom-role conditions are validated and can only narrow the creator's`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const office = await createKey(h.db, h.app.deps.pepper, h.clock, {
      orgId: org.orgId, name: 'office admin', environment: 'live', scopes: ALL_SCOPES, conditions: { ipRanges: ['10.0.0.0/8'] },
    })
    const call = (key: string, method: 'POST' | 'PATCH', url: string, payload: unknown, remoteAddress = '10.1.2.3') =>
      h.http.inject({ method, url, headers: bearer(key), payload: payload as any, remoteAddress })
    const role = (n: string, conditions?: unknown) => ({ name: n, scopes: ['messages:read'], ...(conditions !== undefined ? { conditions } : {}) })

    await t.test('a bad CIDR or time window is 400 naming the field', async () => {
      const cidr = await call(org.liveKey, 'POST', '/v1/roles', role('Bad CIDR', { ipRanges: ['10.0.0.0/8', '300.1.2.3/8'] }))
      assert.equal(cidr.statusCode, 400, cidr.body)
      assert.equal(cidr.json().error.code, 'invalid_request')
      assert.deepEqual(cidr.json().error.details, [{ path: 'body/conditions/ipRanges/1', message: 'not an IPv4 or IPv6 CIDR range' }])
      const zone = await call(org.liveKey, 'POST', '/v1/roles', role('Bad zone', { timeWindows: [{ days: [1], start: '09:00', end: '17:00', timeZone: 'Mars/Olympus' }] }))
      assert.equal(zone.statusCode, 400, zone.body)
      assert.equal(zone.json().error.details[0].path, 'body/conditions/timeWindows/0')
      const empty = await call(org.liveKey, 'POST', '/v1/roles', role('Empty window', { timeWindows: [{ days: [1], start: '09:00', end: '09:00', timeZone: 'UTC' }] }))
      assert.equal(empty.statusCode, 400)
      assert.equal(empty.json().error.details[0].message, 'start and end must differ')
      const host = await call(org.liveKey, 'POST', '/v1/roles', role('Host', { ipRanges: ['192.0.2.7'] }))
      assert.equal(host.statusCode, 201, host.body)
      assert.deepEqual(host.json().conditions, { ipRanges: ['192.0.2.7/32'] })
      // Nothing was stored for the refused requests.
      const names = (await h.db.selectFrom('custom_roles').select('name').where('org_id', '=', org.orgId).execute()).map((r) => r.name)
      assert.deepEqual(names, ['Host'])
    })

    let narrowId = ''
    await t.test('a restricted caller cannot create a wider role; narrower is kept, none inherits its own', async () => {
      const wider = await call(office.secret, 'POST', '/v1/roles', role('Anywhere', { ipRanges: ['0.0.0.0/0'] }))
      assert.equal(wider.statusCode, 403, wider.body)
      assert.equal(wider.json().error.code, 'forbidden')
      assert.deepEqual(wider.json().error.details, { condition: 'ipRanges' })
      const narrower = await call(office.secret, 'POST', '/v1/roles', role('Lab', { ipRanges: ['10.1.0.0/16'] }))
      assert.equal(narrower.statusCode, 201, narrower.body)
      assert.deepEqual(narrower.json().conditions, { ipRanges: ['10.1.0.0/16'] })
      narrowId = narrower.json().id
      const inherited = await call(office.secret, 'POST', '/v1/roles', role('Office'))
      assert.equal(inherited.statusCode, 201)
      assert.deepEqual(inherited.json().conditions, { ipRanges: ['10.0.0.0/8'] })
      // Clearing conditions does not escape them either.
      const cleared = await call(office.secret, 'POST', '/v1/roles', role('Cleared', null))
      assert.deepEqual(cleared.json().conditions, { ipRanges: ['10.0.0.0/8'] })
    })

    await t.test('updates follow the same rules, and a restricted caller cannot edit a wider role', async () => {
      const widen = await call(office.secret, 'PATCH', `/v1/roles/${narrowId}`, { conditions: { ipRanges: ['0.0.0.0/0'] } })
      assert.equal(widen.statusCode, 403)
      const bad = await call(office.secret, 'PATCH', `/v1/roles/${narrowId}`, { conditions: { ipRanges: ['10.0.0.0/33'] } })
      assert.equal(bad.statusCode, 400)
      assert.equal(bad.json().error.details[0].path, 'body/conditions/ipRanges/0')
      const ok = await call(office.secret, 'PATCH', `/v1/roles/${narrowId}`, { conditions: { ipRanges: ['10.1.2.0/24'] } })
      assert.equal(ok.statusCode, 200, ok.body)
      assert.deepEqual(ok.json().conditions, { ipRanges: ['10.1.2.0/24'] })
      const unrestricted = await call(org.liveKey, 'POST', '/v1/roles', role('Global'))
      assert.equal(unrestricted.json().conditions, null)
      const edit = await call(office.secret, 'PATCH', `/v1/roles/${unrestricted.json().id}`, { scopes: ['messages:read', 'messages:send'] })
      assert.equal(edit.statusCode, 403)
      assert.equal(edit.json().error.code, 'forbidden')
    })
  })
}
