import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { verifyWebhook, signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/monitoring/webhook.ts'
import { createOutboundGuard } from '../../src/net/guard.ts'
import { createNotifier } from '../../src/monitoring/notifier.ts'
import { ALL_OK, verifyWithAll } from '../webhooks/verifiers.ts'
import { startReceiver } from '../webhooks/receiver.ts'


test('a bounce spike notifies the organization by a signed webhook that a receiver can verify', async (t) => {
  const hook = await startReceiver(t, [204])
  const h = await buildTestApp({ env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true' } })
  t.after(() => h.close())
  const org = await h.seedOrg()

  const put = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: hook.url, rules: { bounce_rate_spike: { actions: ['notify'] } } } })
  assert.equal(put.statusCode, 200, put.body)
  const secret = put.json().webhookSecret
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  const view = await h.http.inject({ method: 'GET', url: '/v1/alerts/policy', headers: bearer(org.liveKey) })
  assert.equal(view.json().webhook.url, hook.url)
  assert.ok(!view.body.includes(secret), 'the secret is shown once')
  const stored = await h.db.selectFrom('monitoring_policies').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
  assert.ok(stored.webhook_secret && !stored.webhook_secret.includes(secret), 'stored sealed')

  for (let i = 0; i < 60; i++) {
    h.app.monitoring.monitor.recordDeliveryOutcome(org.orgId, i % 5 === 0
      ? { kind: 'delivered', recipients: ['ok@example.com'], response: '250' }
      : { kind: 'failed', recipients: ['gone@example.com'], reason: '550 no such user', bounce: 'hard' })
  }
  await h.app.monitoring.monitor.settled()
  assert.equal(hook.got.length, 1)
  const [d] = hook.got
  const now = Math.floor(h.clock.now().getTime() / 1000)
  assert.equal(verifyWebhook(secret, d.headers, d.body, now), true)
  // Standard Webhooks (test/webhooks/standard-webhooks.delivery.test.ts has the full set): the real libraries accept it.
  assert.deepEqual(verifyWithAll(secret, d.headers, d.body, now), ALL_OK)
  const payload = JSON.parse(d.body)
  assert.equal(d.headers['webhook-id'], payload.alert.id)
  assert.equal(payload.alert.rule, 'bounce_rate_spike')
  assert.equal(payload.alert.orgId, org.orgId)
  // Tampered, replayed outside the window, or signed with another secret: refused.
  assert.equal(verifyWebhook(secret, d.headers, d.body.replace('bounce', 'bounced'), now), false)
  assert.equal(verifyWebhook(secret, d.headers, d.body, now + 301), false)
  assert.equal(verifyWebhook(secret, d.headers, d.body, now - 301), false)
  assert.equal(verifyWebhook('whsec_other', d.headers, d.body, now), false)
  assert.equal(verifyWebhook(secret, { ...d.headers, [TIMESTAMP_HEADER]: String(now + 10) }, d.body, now), false)
  assert.equal(verifyWebhook(secret, { [SIGNATURE_HEADER]: d.headers[SIGNATURE_HEADER] }, d.body, now), false)

  const alerts = await h.http.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(org.liveKey) })
  const alert = alerts.json().data[0]
  assert.ok(alert.actions.some((a: any) => a.action === 'notify_webhook' && a.ok))
  await h.app.audit.writer.flush()
  const events = await h.db.selectFrom('audit_events').selectAll().where('chain_id', '=', org.orgId).execute()
  assert.ok(events.some((e) => e.action === 'monitoring.notified'))
  assert.ok(!JSON.stringify(events).includes(secret), 'the webhook secret is not in the audit log')
})

test('webhooks must be https, and never reach private addresses unless allowed', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const http = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: 'http://example.com/hook' } })
  assert.equal(http.statusCode, 400)
  const creds = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: 'https://u:p@example.com/hook' } })
  assert.equal(creds.statusCode, 400)
  const bad = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { rules: { made_up: { actions: ['notify'] } } } })
  assert.equal(bad.statusCode, 400)
  const needsAdmin = await h.seedOrg('Limited', ['alerts:manage'])
  assert.equal((await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(needsAdmin.liveKey), payload: { emails: ['a@example.com'] } })).statusCode, 403)

  // Private targets are refused when the URL is set (test/net/ssrf-table.test.ts has the full table, and the send-time side).
  for (const target of ['https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://[::1]/x', 'https://169.254.169.254/latest', 'https://[::ffff:192.168.0.1]/x']) {
    const res = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: target } })
    assert.equal(res.statusCode, 400, target)
    assert.equal(res.json().error.code, 'url_not_allowed', target)
  }
  const ok = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: 'https://93.184.216.34/x' } })
  assert.equal(ok.statusCode, 200, ok.body)
})

test('email notifications go to every address of the policy through the pluggable mailer', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  await h.app.monitoring.policies.set(org.orgId, { emails: ['sec@example.com', 'ops@example.com'] }, 'user:usr_x')
  const sent: { to: string; subject: string; text: string }[] = []
  const notifier = createNotifier({ policies: h.app.monitoring.policies, clock: h.clock, mailer: { send: async (m) => { sent.push(m) } }, outbound: createOutboundGuard({ allowPrivate: false }) })
  const results = await notifier.notify({
    id: 'alr_x', orgId: org.orgId, rule: 'off_hours_activity', severity: 'low', status: 'open', subject: { type: 'key', id: 'key_x' },
    summary: 'key used at 03:00 UTC', evidence: { hourUtc: 3 }, actions: [], count: 1, firstSeenAt: '', lastSeenAt: '',
    acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null,
  }, ['notify'])
  assert.deepEqual(results.map((r) => [r.channel, r.ok]), [['email', true], ['email', true]])
  assert.deepEqual(sent.map((m) => m.to), ['sec@example.com', 'ops@example.com'])
  assert.match(sent[0].subject, /low security alert: off_hours_activity/)
  assert.match(sent[0].text, /"hourUtc": 3/)
})

test('signatures are HMAC-SHA256 over timestamp.body', () => {
  const expected = createHmac('sha256', 'whsec_k').update('1700000000.{"a":1}').digest('hex')
  assert.equal(signWebhook('whsec_k', 1700000000, '{"a":1}'), `v1=${expected}`)
  assert.notEqual(signWebhook('whsec_k', 1700000001, '{"a":1}'), `v1=${expected}`)
})
