import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { DAY } from '../../src/core/clock.ts'
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts'
import { endpointSecretCtx } from '../../src/webhooks/table.ts'
import { createNotifier } from '../../src/monitoring/notifier.ts'
import { verifyWebhook } from '../../src/monitoring/webhook.ts'
import type { AlertView } from '../../src/monitoring/alert-view.ts'
import { startReceiver, type Received } from './receiver.ts'
import { createWebhook, delivered, guardedTransport, logSink, nowSec, recordOutcome, sendMessage, testDispatcher } from './helpers.ts'
import { ALL_OK, all, verifyWithAll } from './verifiers.ts'

const STANDARD_SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/
const legacySecret = () => `whsec_${randomBytes(32).toString('base64url')}`
const ts = (r: Received) => Number(r.headers['webhook-timestamp'])

/**
 * Every delivered webhook, customer event or security alert, checked by the receivers customers
 * actually use: standardwebhooks, svix's Webhook and Resend's webhooks.verify, each holding one
 * secret. Deliveries go through the real dispatcher / notifier and the outbound guard to a
 * loopback receiver; the libraries' clock is set to the attempt's time when the test clock moved.
 */
for (const { name, skip } of await testDialects()) {
  test(`${name}: Standard Webhooks signatures on delivered webhooks`, { skip, timeout: 90_000 }, async (t) => {
    const logs = logSink()
    const h: TestApp = await buildTestApp({ dialect: name, logStream: logs.stream, env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true' } })
    t.after(() => h.close())
    const dispatcher = testDispatcher(h, guardedTransport(true), logs.logger)
    /** The receiver's clock is the test clock (it moves by days between cases). */
    const verify = (secret: string, headers: Received['headers'], body: string, atSec = nowSec(h)) => verifyWithAll(secret, headers, body, atSec)
    /** Every secret a case saw, to check none reached the logs. */
    const secrets: string[] = []
    let n = 0
    const setup = async () => {
      const org = await h.seedOrg(`Std ${++n}`)
      const domain = `s${n}.stdhooks.test`
      await h.seedDomain(org.orgId, domain, 'ed25519')
      return { org, domain }
    }
    const rotate = async (org: { liveKey: string }, id: string) => {
      const res = await h.http.inject({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret`, headers: bearer(org.liveKey) })
      assert.equal(res.statusCode, 200, res.body)
      secrets.push(res.json().secret)
      return res.json().secret as string
    }

    await t.test('a customer event carries webhook-id (the event id), webhook-timestamp and a signature all three libraries accept', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      secrets.push(hook.secret)
      assert.match(hook.secret, STANDARD_SECRET)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      assert.equal(await dispatcher.runOnce(), 1)
      const [req] = rx.got
      const event = JSON.parse(req.body)
      assert.equal(req.headers['webhook-id'], event.id)
      assert.match(event.id, /^evt_/)
      assert.equal(req.headers['sealpost-event-id'], event.id)
      assert.equal(ts(req), nowSec(h))
      assert.match(req.headers['webhook-signature'] as string, /^v1,[A-Za-z0-9+/]{43}=$/)
      assert.deepEqual(verify(hook.secret, req.headers, req.body), ALL_OK)
      assert.deepEqual(verify(hook.secret, req.headers, req.body.replace('bob@', 'eve@')), all('No matching signature found'), 'tampered body')
      const other = await createWebhook(h, org, { url: 'http://127.0.0.1:59999/other', events: ['message.bounced'] })
      assert.deepEqual(verify(other.secret, req.headers, req.body), all('No matching signature found'), 'another endpoint\'s secret')
      assert.deepEqual(verify(hook.secret, req.headers, req.body, ts(req) + 301), all('Message timestamp too old'), 'replayed after 300 s')
      // The legacy header, for one release.
      assert.ok(verifyWebhookSignature(hook.secret, req.headers['sealpost-signature'] as string, req.body, 300, nowSec(h)))
    })

    await t.test('every retry of an event has the same webhook-id, a fresh timestamp and a valid signature', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t, [500, 503, 200])
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      for (let i = 0; i < 3; i++) {
        assert.equal(await dispatcher.runOnce(), 1)
        const row = await h.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
        if (row.state === 'pending') h.clock.set(new Date(row.next_attempt_at))
      }
      assert.equal(rx.got.length, 3)
      const eventId = JSON.parse(rx.got[0].body).id
      assert.deepEqual(rx.got.map((r) => r.headers['webhook-id']), [eventId, eventId, eventId])
      assert.ok(ts(rx.got[0]) < ts(rx.got[1]) && ts(rx.got[1]) < ts(rx.got[2]), 'each attempt is signed at its own time')
      for (const r of rx.got) assert.deepEqual(verify(hook.secret, r.headers, r.body, ts(r)), ALL_OK)
    })

    await t.test('a rotation sends both signatures for 24 h, each secret alone verifies, then only the new one signs', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      const next = await rotate(org, hook.id)
      assert.match(next, STANDARD_SECRET)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const during = rx.got[0]
      assert.equal((during.headers['webhook-signature'] as string).split(' ').length, 2)
      assert.deepEqual(verify(next, during.headers, during.body), ALL_OK, 'new secret')
      assert.deepEqual(verify(hook.secret, during.headers, during.body), ALL_OK, 'old secret, during the overlap')

      h.clock.advance(DAY + 1000)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const after = rx.got[1]
      assert.equal((after.headers['webhook-signature'] as string).split(' ').length, 1)
      assert.deepEqual(verify(next, after.headers, after.body, ts(after)), ALL_OK)
      assert.deepEqual(verify(hook.secret, after.headers, after.body, ts(after)), all('No matching signature found'), 'the old secret no longer signs')
    })

    await t.test('an endpoint with a legacy secret keeps its Sealpost-Signature, and moves to Standard Webhooks by rotating', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      // An endpoint created before Standard Webhooks: its stored (sealed) secret is the old format.
      const legacy = legacySecret()
      secrets.push(legacy)
      await h.db.updateTable('webhook_endpoints').set({ secret: await h.app.envelope.encrypt(endpointSecretCtx(org.orgId, hook.id, 'secret'), legacy) }).where('id', '=', hook.id).execute()

      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const before = rx.got[0]
      assert.ok(verifyWebhookSignature(legacy, before.headers['sealpost-signature'] as string, before.body, 300, nowSec(h)))
      assert.deepEqual([before.headers['webhook-id'], before.headers['webhook-timestamp'], before.headers['webhook-signature']], [undefined, undefined, undefined],
        'no Standard Webhooks headers that no library could verify with this secret')

      const next = await rotate(org, hook.id)
      assert.match(next, STANDARD_SECRET)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const migrating = rx.got[1]
      assert.equal((migrating.headers['webhook-signature'] as string).split(' ').length, 1, 'only the new secret can sign webhook-signature')
      assert.deepEqual(verify(next, migrating.headers, migrating.body), ALL_OK)
      assert.ok(verifyWebhookSignature(legacy, migrating.headers['sealpost-signature'] as string, migrating.body, 300, nowSec(h)), 'the old receiver keeps working for 24 h')

      h.clock.advance(DAY + 1000)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const after = rx.got[2]
      assert.deepEqual(verify(next, after.headers, after.body, ts(after)), ALL_OK)
      assert.equal(verifyWebhookSignature(legacy, after.headers['sealpost-signature'] as string, after.body, 300, nowSec(h)), false, 'the legacy secret is gone')
    })

    await t.test('a security alert webhook is signed the same way, with the alert id as webhook-id across retries', async (t) => {
      const { org } = await setup()
      const rx = await startReceiver(t, [500, 204])
      const put = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: rx.url } })
      assert.equal(put.statusCode, 200, put.body)
      const secret = put.json().webhookSecret as string
      secrets.push(secret)
      assert.match(secret, STANDARD_SECRET)
      const notifier = createNotifier({ policies: h.app.monitoring.policies, clock: h.clock, outbound: guardedTransport(true) })
      const alert = alertFor(org.orgId, 'alr_01jd0000000000000000000001')
      assert.deepEqual((await notifier.notify(alert, ['notify'])).map((r) => [r.channel, r.ok]), [['webhook', true]])
      assert.equal(rx.got.length, 2, 'retried once after the 500')
      assert.deepEqual(rx.got.map((r) => r.headers['webhook-id']), [alert.id, alert.id])
      for (const r of rx.got) {
        assert.equal(JSON.parse(r.body).alert.id, alert.id)
        assert.deepEqual(verify(secret, r.headers, r.body), ALL_OK)
      }
      const [d] = rx.got
      assert.deepEqual(verify(secret, d.headers, d.body.replace('critical', 'low')), all('No matching signature found'), 'tampered body')
      assert.deepEqual(verify(secret, d.headers, d.body, ts(d) + 301), all('Message timestamp too old'))
      const other = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { rotateWebhookSecret: true } })
      assert.equal(other.statusCode, 200, other.body)
      assert.equal(other.headers['cache-control'], 'no-store')
      const rotated = other.json().webhookSecret as string
      assert.match(rotated, STANDARD_SECRET)
      assert.notEqual(rotated, secret)
      assert.deepEqual(verify(rotated, d.headers, d.body), all('No matching signature found'), 'another secret')
      // The legacy pair, for one release.
      assert.ok(verifyWebhook(secret, d.headers as Record<string, string>, d.body, ts(d)))
    })

    await t.test('an alert policy with a legacy secret keeps its legacy signature until rotateWebhookSecret gives it a Standard Webhooks one', async (t) => {
      const { org } = await setup()
      const rx = await startReceiver(t)
      const put = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: rx.url } })
      assert.equal(put.statusCode, 200, put.body)
      const legacy = legacySecret()
      await h.db.updateTable('monitoring_policies').set({ webhook_secret: await h.app.envelope.encrypt({ orgId: org.orgId, table: 'monitoring_policies', column: 'webhook_secret', rowId: org.orgId }, legacy) }).where('org_id', '=', org.orgId).execute()
      h.clock.advance(31_000) // past the policy cache
      const notifier = createNotifier({ policies: h.app.monitoring.policies, clock: h.clock, outbound: guardedTransport(true) })
      await notifier.notify(alertFor(org.orgId, 'alr_01jd0000000000000000000002'), ['notify'])
      const [before] = rx.got
      assert.ok(verifyWebhook(legacy, before.headers as Record<string, string>, before.body, nowSec(h)))
      assert.deepEqual([before.headers['webhook-id'], before.headers['webhook-signature']], [undefined, undefined])

      const res = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { rotateWebhookSecret: true } })
      assert.equal(res.statusCode, 200, res.body)
      const secret = res.json().webhookSecret as string
      secrets.push(secret, legacy)
      assert.match(secret, STANDARD_SECRET)
      assert.equal(res.json().webhook.url, rx.url, 'the URL is unchanged')
      await notifier.notify(alertFor(org.orgId, 'alr_01jd0000000000000000000003'), ['notify'])
      const after = rx.got[1]
      assert.deepEqual(verify(secret, after.headers, after.body, ts(after)), ALL_OK)
      assert.equal(verifyWebhook(legacy, after.headers as Record<string, string>, after.body, nowSec(h)), false, 'the legacy secret no longer signs')

      const none = await h.seedOrg('No alert webhook')
      const refused = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(none.liveKey), payload: { rotateWebhookSecret: true } })
      assert.equal(refused.statusCode, 400)
      assert.equal(refused.json().error.code, 'invalid_request')
    })

    await t.test('no secret, new or legacy, is in the logs or the audit log', async () => {
      await h.app.audit.writer.flush()
      const audit = JSON.stringify(await h.db.selectFrom('audit_events').selectAll().execute())
      assert.ok(secrets.length >= 7)
      for (const s of secrets) {
        assert.ok(!logs.text().includes(s), 'secret in the logs')
        assert.ok(!audit.includes(s), 'secret in the audit log')
      }
      assert.ok(logs.text().length > 0 && audit.includes('webhook.secret_rotated'))
    })
  })
}

function alertFor(orgId: string, id: string): AlertView {
  return {
    id, orgId, rule: 'key_compromise_suspected', severity: 'critical', status: 'open', subject: { type: 'key', id: 'key_x' },
    summary: 'key used from a new range', evidence: { range: '203.0.113.0/24' }, actions: [], count: 1,
    firstSeenAt: '2026-12-01T00:00:00.000Z', lastSeenAt: '2026-12-01T00:00:00.000Z',
    acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null,
  }
}
