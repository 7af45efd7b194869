import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

const HOME = '203.0.113.10'
const NEW_IP = '198.51.100.77'
const MINUTE = 60_000

for (const { name, skip } of await testDialects()) {
  test(`${name}: a key sending 10x its baseline from a new IP is suspended, then reinstated by an admin`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const admin = (await h.http.inject({ method: 'POST', url: '/v1/keys', headers: bearer(org.liveKey), payload: { name: 'admin', scopes: ALL_SCOPES, environment: 'live' } })).json()
    const call = (key: string, ip: string) => h.http.inject({ method: 'GET', url: '/v1/domains', remoteAddress: ip, headers: bearer(key) })

    // 1. Baseline: 30 minutes at 5 requests a minute from the usual address (the clock moves, nobody sleeps).
    for (let m = 0; m < 30; m++) {
      for (let i = 0; i < 5; i++) assert.equal((await call(org.liveKey, HOME)).statusCode, 200)
      h.clock.advance(MINUTE)
    }
    await h.app.monitoring.monitor.settled()
    assert.deepEqual((await h.app.monitoring.alerts.list({ orgId: org.orgId } as any, {})).data, [], 'normal traffic raises nothing')

    // 2. The burst: 50 requests in one minute (10x) from an address range the key never used.
    const codes: string[] = []
    for (let i = 0; i < 50; i++) {
      const r = await call(org.liveKey, NEW_IP)
      codes.push(r.statusCode === 200 ? 'ok' : r.json().error.code)
    }
    await h.app.monitoring.monitor.settled()
    assert.ok(codes.includes('key_suspended'), `suspended during the burst: ${codes.join(',')}`)

    // 3. Its next request, from anywhere, is refused with key_suspended.
    const next = await call(org.liveKey, HOME)
    assert.equal(next.statusCode, 403)
    assert.equal(next.json().error.code, 'key_suspended')
    const row = await h.db.selectFrom('api_keys').select(['suspended_at', 'suspended_reason']).where('id', '=', org.liveKeyId).executeTakeFirstOrThrow()
    assert.ok(row.suspended_at !== null)
    assert.match(String(row.suspended_reason), /key_compromise_suspected/)

    // 4. The alert carries its evidence and the actions taken; an admin sees it over the API.
    const list = await h.http.inject({ method: 'GET', url: '/v1/alerts?severity=critical', headers: bearer(admin.secret) })
    assert.equal(list.statusCode, 200)
    const alert = list.json().data.find((a: any) => a.rule === 'key_compromise_suspected')
    assert.ok(alert)
    assert.equal(alert.subject.id, org.liveKeyId)
    assert.ok(alert.evidence.ratio >= 5, JSON.stringify(alert.evidence))
    assert.deepEqual(alert.evidence.newRanges, ['198.51.100.0/24'])
    assert.ok(alert.actions.some((a: any) => a.action === 'suspend_key' && a.ok))
    assert.ok(alert.actions.some((a: any) => a.action === 'block_ip' && a.ok))
    const newRange = (await h.http.inject({ method: 'GET', url: '/v1/alerts?rule=new_ip_range', headers: bearer(admin.secret) })).json().data
    assert.equal(newRange.length, 1)

    // The address is blocked for this organization only, for every credential of it.
    const fromNewIp = await call(admin.secret, NEW_IP)
    assert.equal(fromNewIp.json().error.code, 'ip_blocked')
    const otherOrg = await h.seedOrg('Other')
    assert.equal((await call(otherOrg.liveKey, NEW_IP)).statusCode, 200)

    // 5. Every automatic action is in the audit log, by the system actor.
    await h.app.audit.writer.flush()
    const actions = (await h.db.selectFrom('audit_events').select(['action', 'actor_type']).where('chain_id', '=', org.orgId).where('actor_type', '=', 'system').execute()).map((e) => e.action)
    for (const a of ['alert.raised', 'key.suspended', 'monitoring.ip_blocked']) assert.ok(actions.includes(a), `${a} audited: ${actions}`)

    // 6. Acknowledge, reinstate, resolve.
    const ack = await h.http.inject({ method: 'POST', url: `/v1/alerts/${alert.id}/acknowledge`, headers: bearer(admin.secret) })
    assert.equal(ack.json().status, 'acknowledged')
    const again = await h.http.inject({ method: 'POST', url: `/v1/alerts/${alert.id}/acknowledge`, headers: bearer(admin.secret) })
    assert.equal(again.statusCode, 409)
    const re = await h.http.inject({ method: 'POST', url: `/v1/keys/${org.liveKeyId}/reinstate`, headers: bearer(admin.secret) })
    assert.equal(re.statusCode, 200, re.body)
    assert.equal((await call(org.liveKey, HOME)).statusCode, 200)
    const resolved = await h.http.inject({ method: 'POST', url: `/v1/alerts/${alert.id}/resolve`, headers: bearer(admin.secret) })
    assert.equal(resolved.json().status, 'resolved')
    await h.app.audit.writer.flush()
    const manual = (await h.db.selectFrom('audit_events').select('action').where('chain_id', '=', org.orgId).where('actor_id', '=', admin.key.id).execute()).map((e) => e.action)
    for (const a of ['alert.acknowledged', 'key.reinstated', 'alert.resolved']) assert.ok(manual.includes(a), `${a} audited: ${manual}`)
    assert.equal((await h.app.audit.verify({ chainId: org.orgId })).ok, true)
  })

  test(`${name}: a volume spike from known addresses throttles the key instead`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const call = () => h.http.inject({ method: 'GET', url: '/v1/domains', remoteAddress: HOME, headers: bearer(org.liveKey) })
    for (let m = 0; m < 20; m++) {
      for (let i = 0; i < 4; i++) await call()
      h.clock.advance(MINUTE)
    }
    const codes: number[] = []
    for (let i = 0; i < 40; i++) codes.push((await call()).statusCode)
    await h.app.monitoring.monitor.settled()
    for (let i = 0; i < 15; i++) codes.push((await call()).statusCode)
    assert.ok(codes.includes(429), codes.join(','))
    const limited = await call()
    assert.equal(limited.statusCode, 429)
    assert.equal(limited.json().error.code, 'rate_limited')
    assert.ok(Number(limited.headers['retry-after']) > 0)
    const alerts = await h.app.monitoring.alerts.list({ orgId: org.orgId } as any, { rule: 'request_volume_spike' })
    assert.equal(alerts.data[0].subject.id, org.liveKeyId)
    assert.ok(alerts.data[0].actions.some((a) => a.action === 'throttle' && a.ok))
    // Not suspended: the key keeps working at its usual pace in the next minute.
    h.clock.advance(MINUTE)
    assert.equal((await call()).statusCode, 200)
  })
}
