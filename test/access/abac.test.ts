import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { call, seedKey } from '../keys/helpers.ts'

const PROBE = '/v1/keys/policy'

function assertDenied(r: { statusCode: number; body: string; json(): any }, reason: string, secrets: string[]) {
  assert.equal(r.statusCode, 403)
  assert.equal(r.json().error.code, 'policy_denied')
  assert.equal(r.json().error.details.reason, reason)
  for (const s of secrets) assert.ok(!r.body.includes(s), `the refusal must not reveal the policy (${s})`)
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: ABAC conditions on keys`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()

    await t.test('IP ranges: IPv4, IPv6 and IPv4-mapped clients', async () => {
      const { secret } = await seedKey(h, { orgId: org.orgId, conditions: { ipRanges: ['203.0.113.0/24', '2001:db8:abcd::/48'] } })
      const from = (ip: string) => call(h, secret, 'GET', PROBE, undefined, { remoteAddress: ip })
      assert.equal((await from('203.0.113.9')).statusCode, 200)
      assert.equal((await from('::ffff:203.0.113.9')).statusCode, 200)
      assert.equal((await from('2001:db8:abcd:1::5')).statusCode, 200)
      assertDenied(await from('198.51.100.1'), 'ip_not_allowed', ['203.0.113', '2001:db8'])
      assertDenied(await from('2001:db8:abce::1'), 'ip_not_allowed', ['203.0.113', '2001:db8:abcd'])
      assertDenied(await from('::ffff:198.51.100.1'), 'ip_not_allowed', [])
    })

    await t.test('without trusted proxies, X-Forwarded-For is ignored', async () => {
      const { secret } = await seedKey(h, { orgId: org.orgId, conditions: { ipRanges: ['203.0.113.0/24'] } })
      const r = await call(h, secret, 'GET', PROBE, undefined, { remoteAddress: '198.51.100.1', headers: { 'x-forwarded-for': '203.0.113.9' } })
      assertDenied(r, 'ip_not_allowed', ['203.0.113'])
    })

    await t.test('time windows in an IANA zone, from the injected clock', async () => {
      const { secret } = await seedKey(h, { orgId: org.orgId, conditions: { timeWindows: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timeZone: 'America/New_York' }] } })
      h.clock.set('2026-03-02T15:00:00Z') // Monday 10:00 in New York
      assert.equal((await call(h, secret, 'GET', PROBE)).statusCode, 200)
      h.clock.set('2026-03-02T22:00:00Z') // Monday 17:00 in New York: closed
      assertDenied(await call(h, secret, 'GET', PROBE), 'outside_time_window', ['17:00', 'New_York'])
      h.clock.set('2026-03-07T15:00:00Z') // Saturday
      assertDenied(await call(h, secret, 'GET', PROBE), 'outside_time_window', [])
      h.clock.set(new Date())
    })

    await t.test('environment condition', async () => {
      const { secret } = await seedKey(h, { orgId: org.orgId, conditions: { environments: ['test'] } })
      assertDenied(await call(h, secret, 'GET', PROBE), 'environment_not_allowed', [])
    })

    await t.test('conditions given at creation are validated, normalized and enforced', async () => {
      const r = await call(h, org.liveKey, 'POST', '/v1/keys', {
        name: 'office', scopes: ['keys:manage'], environment: 'live',
        conditions: { ip_ranges: ['192.0.2.77/24', '2001:DB8::/32'], time_windows: [{ days: [1, 1, 2], start: '08:00', end: '20:00', time_zone: 'Europe/Paris' }] },
      })
      assert.equal(r.statusCode, 201)
      const { key, secret } = r.json()
      assert.deepEqual(key.conditions, {
        ip_ranges: ['192.0.2.0/24', '2001:db8::/32'],
        time_windows: [{ days: [1, 2], start: '08:00', end: '20:00', time_zone: 'Europe/Paris' }],
      })
      h.clock.set('2026-03-02T10:00:00Z')
      assert.equal((await call(h, secret, 'GET', PROBE, undefined, { remoteAddress: '192.0.2.1' })).statusCode, 200)
      assertDenied(await call(h, secret, 'GET', PROBE, undefined, { remoteAddress: '127.0.0.1' }), 'ip_not_allowed', ['192.0.2'])
      h.clock.set(new Date())
      for (const conditions of [{ time_windows: [{ days: [1], start: '08:00', end: '20:00', time_zone: 'Moon/Base' }] }, { ip_ranges: ['300.1.1.1/8'] }, { bogus: 1 }]) {
        const bad = await call(h, org.liveKey, 'POST', '/v1/keys', { name: 'x', scopes: ['keys:manage'], environment: 'live', conditions })
        assert.equal(bad.statusCode, 400, JSON.stringify(conditions))
      }
    })

    await t.test('a fenced creator passes its fence on, and cannot create a key outside it', async () => {
      const creator = await seedKey(h, { orgId: org.orgId, conditions: { ipRanges: ['127.0.0.0/8'] } })
      const inherited = await call(h, creator.secret, 'POST', '/v1/keys', { name: 'child', scopes: ['keys:manage'], environment: 'live' })
      assert.equal(inherited.statusCode, 201)
      assert.deepEqual(inherited.json().key.conditions, { ip_ranges: ['127.0.0.0/8'] })
      const narrower = await call(h, creator.secret, 'POST', '/v1/keys', { name: 'c', scopes: ['keys:manage'], environment: 'live', conditions: { ip_ranges: ['127.0.0.1/32'] } })
      assert.equal(narrower.statusCode, 201)
      const wider = await call(h, creator.secret, 'POST', '/v1/keys', { name: 'c', scopes: ['keys:manage'], environment: 'live', conditions: { ip_ranges: ['0.0.0.0/0'] } })
      assert.equal(wider.statusCode, 403)
      assert.equal(wider.json().error.code, 'forbidden')
    })
  })

  test(`${name}: client IP behind trusted proxies`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8' } })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const { secret, id } = await seedKey(h, { orgId: org.orgId, conditions: { ipRanges: ['203.0.113.0/24'] } })
    const via = (peer: string, xff: string) => call(h, secret, 'GET', PROBE, undefined, { remoteAddress: peer, headers: { 'x-forwarded-for': xff } })

    await t.test('a spoofed X-Forwarded-For from an untrusted peer is ignored', async () => {
      assertDenied(await via('198.51.100.1', '203.0.113.9'), 'ip_not_allowed', ['203.0.113'])
    })
    await t.test('X-Forwarded-For from a trusted proxy is honoured (IPv4 and IPv6 proxies)', async () => {
      h.clock.advance(120_000) // last use is recorded at most once a minute per key
      assert.equal((await via('10.1.2.3', '203.0.113.9')).statusCode, 200)
      assert.equal((await via('fd00::1', '203.0.113.9')).statusCode, 200)
      const row = (await call(h, org.liveKey, 'GET', `/v1/keys/${id}`)).json()
      assert.equal(row.last_used_ip, '203.0.113.9', 'the recorded IP is the client, not the proxy')
    })
    await t.test('the client is the nearest untrusted hop: a forged left-most entry does not help', async () => {
      assert.equal((await via('10.1.2.3', '198.51.100.1, 203.0.113.9')).statusCode, 200)
      assertDenied(await via('10.1.2.3', '203.0.113.9, 198.51.100.1'), 'ip_not_allowed', [])
      assert.equal((await via('10.1.2.3', '203.0.113.9, 10.9.9.9')).statusCode, 200, 'a chain of trusted proxies is walked')
    })
  })
}
