import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'

const TOKEN = 'metrics-token-0123456789abcdef0123456789'

test('/metrics needs the configured bearer token and exposes the request, auth, rate-limit, queue and alert series', async (t) => {
  const h = await buildTestApp({ env: { SEALPOST_METRICS_TOKEN: TOKEN } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(org.liveKey) })
  await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(org.liveKey.slice(0, -5) + 'AAAAA') })
  await h.app.monitoring.alerts.raise({ rule: 'bounce_rate_spike', severity: 'high', orgId: org.orgId, subject: { type: 'org', id: org.orgId }, summary: 's', evidence: {}, at: h.clock.now().getTime() })
  h.app.monitoring.monitor.recordDeliveryOutcome(org.orgId, { kind: 'failed', recipients: ['a@example.com'], reason: '550', bounce: 'hard' })

  for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
    const r = await h.http.inject({ method: 'GET', url: '/metrics', headers: auth ? { authorization: auth } : {} })
    assert.equal(r.statusCode, 401, String(auth))
    assert.equal(r.json().error.code, 'unauthenticated')
  }
  // An API key is not a metrics token.
  assert.equal((await h.http.inject({ method: 'GET', url: '/metrics', headers: bearer(org.liveKey) })).statusCode, 401)

  const r = await h.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(r.statusCode, 200)
  assert.match(String(r.headers['content-type']), /text\/plain/)
  const body = r.body
  assert.match(body, /sealpost_http_requests_total\{method="GET",route="\/v1\/keys",status="200"\} 1/)
  assert.match(body, /sealpost_http_request_duration_seconds_bucket\{le="[\d.]+",method="GET",route="\/v1\/keys",status="200"\}/)
  assert.match(body, /sealpost_auth_failures_total\{reason="(bad_key_checksum|unknown_key)"\} 1/)
  assert.match(body, /sealpost_queue_ready \d+/)
  assert.match(body, /sealpost_queue_oldest_ready_age_seconds \d+/)
  assert.match(body, /sealpost_alerts_raised_total\{rule="bounce_rate_spike",severity="high"\} 1/)
  assert.match(body, /sealpost_delivery_outcomes_total\{outcome="failed",bounce="hard"\} 1/)
  assert.match(body, /sealpost_audit_buffered_events \d+/)
  assert.ok(!body.includes(org.liveKey) && !body.includes(org.orgId), 'no secrets or tenant ids in labels')
})

test('without a token /metrics is not served on the API port; a separate listener serves it', async (t) => {
  const h = await buildTestApp({ env: { SEALPOST_METRICS_PORT: '0' } })
  t.after(() => h.close())
  const r = await h.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer anything-at-all-0123456789abcdef' } })
  assert.equal(r.statusCode, 404)
  const server = await h.app.monitoring.startMetricsListener()
  assert.ok(server)
  const { port, address } = server!.address() as { port: number; address: string }
  assert.equal(address, '127.0.0.1')
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  assert.equal(res.status, 200)
  assert.match(await res.text(), /sealpost_http_requests_total/)
  assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404)
})

test('rate-limit hits are counted', async (t) => {
  const h = await buildTestApp({ env: { SEALPOST_METRICS_TOKEN: TOKEN, SEALPOST_RATE_LIMIT_PER_KEY: '2' } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  for (let i = 0; i < 4; i++) await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(org.liveKey) })
  const body = (await h.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body
  assert.match(body, /sealpost_rate_limited_total\{route="\/v1\/keys",code="429"\} [1-9]/)
})
