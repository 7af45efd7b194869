import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { LEAK_REPORT_RATE_LIMIT } from '../../src/keys/routes.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

const env = {
  SEALPOST_RATE_LIMIT_PER_KEY: '3', SEALPOST_RATE_LIMIT_PER_ORG: '5', SEALPOST_RATE_LIMIT_PER_IP: '4',
  SEALPOST_AUTH_FAILURES_PER_IP: '2', SEALPOST_RATE_LIMIT_WINDOW_SEC: '60',
}

test('rate limits: key, org, IP, route and failed-auth buckets', async (t) => {
  const h = await buildTestApp({ env })
  t.after(() => h.close())
  const org = await h.seedOrg()
  const get = (key: string, ip = '10.0.0.1') => h.http.inject({ method: 'GET', url: '/v1/domains', headers: bearer(key), remoteAddress: ip })

  await t.test('per key: IETF headers on every response, then 429 with Retry-After and the JSON error', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await get(org.liveKey)
      assert.equal(r.statusCode, 200)
      assert.equal(r.headers['ratelimit-policy'], '"key";q=3;w=60, "org";q=5;w=60')
      assert.match(String(r.headers.ratelimit), new RegExp(`^"key";r=${2 - i};t=\\d+, "org";r=${4 - i};t=\\d+$`))
    }
    const r = await get(org.liveKey)
    assert.equal(r.statusCode, 429)
    const retry = Number(r.headers['retry-after'])
    assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`)
    assert.equal(r.headers['ratelimit-policy'], '"key";q=3;w=60, "org";q=5;w=60')
    const body = r.json()
    assert.equal(body.error.code, 'rate_limited')
    assert.equal(body.error.details.policy, 'key')
    assert.equal(body.error.details.limit, 3)
  })

  await t.test('per org: the org bucket is shared by all its keys of one environment; the sandbox has its own', async () => {
    // 4 live requests used so far (the refused one counted against the org too); one left.
    const second = (await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'second live', environment: 'live', scopes: ALL_SCOPES })).secret
    assert.equal((await get(second)).statusCode, 200)
    const r = await get(second)
    assert.equal(r.statusCode, 429)
    assert.equal(r.json().error.details.policy, 'org')
    // The test key's traffic is counted apart: the live budget is spent, the sandbox's is not.
    const sandbox = await get(org.testKey)
    assert.equal(sandbox.statusCode, 200)
    assert.match(String(sandbox.headers.ratelimit), /"org";r=4;/)
    // Another organization is unaffected.
    const other = await h.seedOrg('Other')
    assert.equal((await get(other.liveKey)).statusCode, 200)
  })

  await t.test('per IP on public routes, per address', async () => {
    const health = (ip: string) => h.http.inject({ method: 'GET', url: '/healthz', remoteAddress: ip })
    for (let i = 0; i < 4; i++) assert.equal((await health('10.0.0.9')).statusCode, 200)
    const r = await health('10.0.0.9')
    assert.equal(r.statusCode, 429)
    assert.equal(r.json().error.details.policy, 'ip')
    assert.equal(r.headers['ratelimit-policy'], '"ip";q=4;w=60')
    assert.equal((await health('10.0.0.10')).statusCode, 200)
  })

  await t.test('per route: config.rateLimit adds its own bucket (leaked-key reports)', async () => {
    // A high IP limit, so only the route's own bucket (30/min per caller) can refuse.
    const h2 = await buildTestApp({ env: { SEALPOST_RATE_LIMIT_PER_IP: '1000' } })
    t.after(() => h2.close())
    const send = (ip = '10.2.0.1') => h2.http.inject({ method: 'POST', url: '/v1/keys/leaked', payload: { nope: 1 }, remoteAddress: ip })
    for (let i = 0; i < LEAK_REPORT_RATE_LIMIT.points; i++) assert.notEqual((await send()).statusCode, 429)
    const r = await send()
    assert.equal(r.statusCode, 429)
    assert.equal(r.json().error.details.policy, 'route')
    assert.match(String(r.headers['ratelimit-policy']), new RegExp(`"route";q=${LEAK_REPORT_RATE_LIMIT.points};w=${LEAK_REPORT_RATE_LIMIT.durationSec}`))
    assert.notEqual((await send('10.2.0.2')).statusCode, 429)
  })

  await t.test('failed authentications: wrong credentials from one IP lead to 429, even for a valid key; missing ones do not count', async () => {
    const ip = '10.3.0.1'
    for (let i = 0; i < 5; i++) {
      assert.equal((await h.http.inject({ method: 'GET', url: '/v1/domains', remoteAddress: ip })).statusCode, 401)
    }
    const wrong = () => h.http.inject({ method: 'GET', url: '/v1/domains', headers: bearer('sp_live_' + 'x'.repeat(40)), remoteAddress: ip })
    assert.equal((await wrong()).statusCode, 401)
    assert.equal((await wrong()).statusCode, 401)
    const blocked = await wrong()
    assert.equal(blocked.statusCode, 429)
    assert.equal(blocked.json().error.details.policy, 'authfail')
    assert.ok(Number(blocked.headers['retry-after']) >= 1)
    const fresh = await h.seedOrg('Fresh')
    assert.equal((await get(fresh.liveKey, ip)).statusCode, 429)
    assert.equal((await get(fresh.liveKey, '10.3.0.2')).statusCode, 200)
  })
})
