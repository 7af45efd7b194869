import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { DAY, HOUR } from '../../src/core/clock.ts'
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts'
import { startReceiver } from './receiver.ts'
import { ALL_OK, verifyWithAll } from './verifiers.ts'
import { claimDue, settleDelivery } from '../../src/webhooks/store.ts'
import { createWebhook, delivered, guardedTransport, logSink, nowSec, recordOutcome, sendMessage, testDispatcher } from './helpers.ts'

/**
 * Customer webhooks end to end on each dialect: API → outcome recorded by the delivery
 * path → outbox (same transaction, encrypted) → dispatcher → a real HTTP receiver on
 * loopback that verifies the signature. Time is the test clock; nothing sleeps.
 */
for (const { name, skip } of await testDialects()) {
  test(`${name}: customer webhooks`, { skip, timeout: 90_000 }, async (t) => {
    const logs = logSink()
    const h: TestApp = await buildTestApp({ dialect: name, logStream: logs.stream, env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true', DELIVERY_POLL_MS: '20' } })
    t.after(() => h.close())
    const dispatcher = testDispatcher(h, guardedTransport(true), logs.logger)
    const secrets: string[] = []
    let n = 0
    /** A fresh org with its own sending domain, so each case sees only its own events. */
    const setup = async () => {
      const org = await h.seedOrg(`Org ${++n}`)
      const domain = `d${n}.hooks.test`
      await h.seedDomain(org.orgId, domain, 'ed25519')
      return { org, domain }
    }

    await t.test('a delivered message produces one signed message.delivered POST that the receiver verifies', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, description: 'orders app' })
      secrets.push(hook.secret)
      assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
      assert.equal(hook.enabled, true)
      assert.equal(hook.events.length, 8, 'all event types by default')

      const messageId = await sendMessage(h, org, domain)
      await recordOutcome(h, org, messageId, delivered)
      // In the outbox, encrypted: the recipient address is not readable at rest.
      const [row] = await h.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', org.orgId).execute()
      assert.equal(row.state, 'pending')
      assert.ok(row.payload && !row.payload.includes('bob@example.com') && !row.payload.includes(messageId))

      assert.equal(await dispatcher.runOnce(), 1)
      assert.equal(rx.got.length, 1)
      const [req] = rx.got
      const body = JSON.parse(req.body)
      assert.equal(body.type, 'message.delivered')
      assert.equal(body.data.message_id, messageId)
      assert.deepEqual(body.data.recipients, ['bob@example.com'])
      assert.equal(body.data.response, delivered.kind === 'delivered' ? delivered.response : '')
      assert.equal(req.headers['sealpost-event-type'], 'message.delivered')
      assert.equal(req.headers['sealpost-event-id'], body.id)
      assert.match(body.id, /^evt_/)
      assert.equal(req.headers['content-type'], 'application/json')
      const sig = req.headers['sealpost-signature'] as string
      assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/)
      assert.equal(Number(/^t=(\d+)/.exec(sig)![1]), nowSec(h))

      assert.equal(verifyWebhookSignature(hook.secret, sig, req.body, 300, nowSec(h)), true)
      assert.equal(verifyWebhookSignature(hook.secret, sig, req.body.replace('bob@', 'eve@'), 300, nowSec(h)), false, 'tampered body')
      assert.equal(verifyWebhookSignature(hook.secret, sig, req.body, 300, nowSec(h) + 301), false, 'replayed after the window')

      const done = await h.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()
      assert.equal(done.state, 'delivered')
      assert.equal(done.payload, null, 'the payload is dropped once delivered')
      assert.equal(await dispatcher.runOnce(), 0, 'nothing left to send')
      assert.equal(rx.got.length, 1)
    })

    await t.test('each outcome maps to its event type, and only subscribed, enabled endpoints get it', async (t) => {
      const { org, domain } = await setup()
      const all = await startReceiver(t)
      const onlyBounces = await startReceiver(t)
      const disabled = await startReceiver(t)
      await createWebhook(h, org, { url: all.url })
      await createWebhook(h, org, { url: onlyBounces.url, events: ['message.bounced'] })
      await createWebhook(h, org, { url: disabled.url, enabled: false })
      const id = await sendMessage(h, org, domain)
      const at = h.clock.now().getTime()
      await recordOutcome(h, org, id, { kind: 'deferred', recipients: ['bob@example.com'], reason: '451 try later', retryAt: at + HOUR, attempt: 1 })
      await recordOutcome(h, org, id, { kind: 'failed', recipients: ['bob@example.com'], reason: '452 mailbox full', bounce: 'soft' })
      await recordOutcome(h, org, id, { kind: 'failed', recipients: ['bob@example.com'], reason: '550 no such user', bounce: 'hard' })
      await recordOutcome(h, org, id, { kind: 'sandboxed', recipients: ['bob@example.com'] })
      await recordOutcome(h, org, id, delivered)
      assert.equal(await dispatcher.runOnce(), 6)

      const types = all.got.map((r) => JSON.parse(r.body).type).sort()
      assert.deepEqual(types, ['message.bounced', 'message.deferred', 'message.delivered', 'message.failed', 'message.sandboxed'])
      const deferred = all.got.map((r) => JSON.parse(r.body)).find((b) => b.type === 'message.deferred')
      assert.equal(deferred.data.reason, '451 try later')
      assert.equal(deferred.data.retry_at, new Date(at + HOUR).toISOString())
      assert.deepEqual(onlyBounces.got.map((r) => JSON.parse(r.body).type), ['message.bounced'])
      assert.equal(disabled.got.length, 0)
    })

    await t.test('a receiver answering 500 then 200 is retried after the back-off and gets the event once', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t, [500, 200])
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)

      assert.equal(await dispatcher.runOnce(), 1)
      assert.equal(rx.got.length, 1)
      const pending = await h.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
      assert.equal(pending.state, 'pending')
      assert.equal(pending.next_attempt_at, h.clock.now().getTime() + 30_000, 'first retry after 30 s (jitter pinned)')

      assert.equal(await dispatcher.runOnce(), 0, 'not before the back-off')
      h.clock.advance(29_999)
      assert.equal(await dispatcher.runOnce(), 0)
      h.clock.advance(1)
      assert.equal(await dispatcher.runOnce(), 1)
      assert.equal(rx.got.length, 2)
      assert.equal(rx.got[1].body, rx.got[0].body, 'the same bytes are retried')
      assert.equal(rx.got[1].headers['sealpost-event-id'], rx.got[0].headers['sealpost-event-id'])
      assert.ok(verifyWebhookSignature(hook.secret, rx.got[1].headers['sealpost-signature'] as string, rx.got[1].body, 300, nowSec(h)))
      h.clock.advance(DAY)
      assert.equal(await dispatcher.runOnce(), 0, 'delivered once, never again')

      const res = await h.http.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries`, headers: bearer(org.liveKey) })
      assert.equal(res.statusCode, 200)
      const attempts = res.json().data
      assert.deepEqual(attempts.map((a: any) => [a.attempt, a.status_code, a.ok, a.delivery_state]), [[2, 200, true, 'delivered'], [1, 500, false, 'delivered']])
      assert.equal(attempts[1].error, 'answered 500')
      assert.ok(attempts.every((a: any) => Number.isInteger(a.duration_ms) && a.duration_ms >= 0))
      assert.ok(!res.body.includes(hook.secret) && !res.body.includes('bob@example.com'))
    })

    await t.test('a receiver that keeps failing is retried with growing delays for about a day, then the event is failed', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t, [503])
      await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      const created = h.clock.now().getTime()
      const delays: number[] = []
      for (let i = 0; i < 30; i++) {
        assert.equal(await dispatcher.runOnce(), 1)
        const row = await h.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
        if (row.state !== 'pending') break
        delays.push(row.next_attempt_at - h.clock.now().getTime())
        h.clock.set(new Date(row.next_attempt_at))
      }
      const row = await h.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
      assert.equal(row.state, 'failed')
      assert.equal(row.payload, null)
      // 30 s, 1 min, 2 min … capped at 4 h; the next retry would land past 24 h.
      assert.deepEqual(delays.slice(0, 4), [30_000, 60_000, 120_000, 240_000])
      assert.equal(Math.max(...delays), 4 * HOUR)
      assert.equal(row.attempts, 14)
      assert.equal(rx.got.length, 14)
      assert.ok(h.clock.now().getTime() - created < DAY && h.clock.now().getTime() + 4 * HOUR - created > DAY)
      h.clock.advance(DAY)
      assert.equal(await dispatcher.runOnce(), 0)
    })

    await t.test('a rotated secret keeps signing beside the new one for 24 h, then only the new one signs', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      const rotated = await h.http.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: bearer(org.liveKey) })
      assert.equal(rotated.statusCode, 200, rotated.body)
      assert.equal(rotated.headers['cache-control'], 'no-store')
      const next = rotated.json()
      secrets.push(hook.secret, next.secret)
      assert.notEqual(next.secret, hook.secret)
      assert.equal(next.previous_secret_expires_at, new Date(h.clock.now().getTime() + DAY).toISOString())

      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const during = rx.got[0]
      const sig = during.headers['sealpost-signature'] as string
      assert.equal(sig.split(',').length, 3, 't= and two v1=')
      assert.ok(verifyWebhookSignature(next.secret, sig, during.body, 300, nowSec(h)), 'new secret')
      assert.ok(verifyWebhookSignature(hook.secret, sig, during.body, 300, nowSec(h)), 'old secret, during the overlap')

      h.clock.advance(DAY + 1000)
      const view = await h.http.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey) })
      assert.equal(view.json().previous_secret_expires_at, null)
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      await dispatcher.runOnce()
      const after = rx.got[1]
      const sig2 = after.headers['sealpost-signature'] as string
      assert.equal(sig2.split(',').length, 2)
      assert.ok(verifyWebhookSignature(next.secret, sig2, after.body, 300, nowSec(h)))
      assert.equal(verifyWebhookSignature(hook.secret, sig2, after.body, 300, nowSec(h)), false, 'the old secret no longer signs')
    })

    await t.test('list, get, update and delete never show the secret; the secret is stored sealed', async () => {
      const { org } = await setup()
      const hook = await createWebhook(h, org, { url: 'http://127.0.0.1:59999/a', events: ['message.delivered'] })
      secrets.push(hook.secret)
      const stored = await h.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', hook.id).executeTakeFirstOrThrow()
      assert.ok(!stored.secret.includes(hook.secret))
      const patch = await h.http.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey), payload: { events: ['message.bounced', 'contact.unsubscribed'], enabled: false } })
      assert.equal(patch.statusCode, 200, patch.body)
      assert.deepEqual(patch.json().events, ['message.bounced', 'contact.unsubscribed'])
      assert.equal(patch.json().enabled, false)
      const got = await h.http.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey) })
      assert.deepEqual(got.json(), patch.json())
      const list = await h.http.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(org.liveKey) })
      assert.deepEqual(list.json().data.map((w: any) => w.id), [hook.id])
      for (const body of [patch.body, got.body, list.body]) {
        assert.ok(!body.includes(hook.secret) && !/"secret"/.test(body), 'no secret outside creation and rotation')
      }
      // Plain http only to loopback, even with private targets allowed.
      const lan = await h.http.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey), payload: { url: 'http://10.0.0.8/hook' } })
      assert.equal(lan.statusCode, 400)
      const del = await h.http.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey) })
      assert.equal(del.statusCode, 204)
      assert.equal((await h.http.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: bearer(org.liveKey) })).statusCode, 404)
    })

    await t.test('two dispatchers never send the same event twice, and an expired lease is taken over', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      await createWebhook(h, org, { url: rx.url, events: ['message.delivered'] })
      for (let i = 0; i < 6; i++) await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      const other = testDispatcher(h, guardedTransport(true), logs.logger, { batch: 4 })
      const mine = testDispatcher(h, guardedTransport(true), logs.logger, { batch: 4 })
      const counts = await Promise.all([mine.runOnce(), other.runOnce()])
      assert.equal(counts[0] + counts[1], 6)
      assert.equal(new Set(rx.got.map((r) => r.headers['sealpost-event-id'])).size, 6)
      assert.equal(rx.got.length, 6)

      // A dispatcher that claimed a row and died: nobody else touches it until its lease expires.
      await recordOutcome(h, org, await sendMessage(h, org, domain), delivered)
      const [stuck] = await claimDue(h.db, 'dead-dispatcher', h.clock.now().getTime(), 60_000, 10)
      assert.ok(stuck)
      assert.equal(await mine.runOnce(), 0)
      h.clock.advance(60_000)
      assert.equal(await mine.runOnce(), 1)
      assert.equal(rx.got.length, 7)
      const late = await settleDelivery(h.db, stuck, 'dead-dispatcher', { state: 'failed' }, {
        id: 'wha_late', org_id: org.orgId, endpoint_id: stuck.endpoint_id, delivery_id: stuck.id, event_id: stuck.event_id,
        event_type: stuck.event_type, attempt: 1, at: h.clock.now().getTime(), status_code: null, duration_ms: 0, error: 'late', ok: 0,
      })
      assert.equal(late, false, 'the old owner can no longer write')
      const row = await h.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', stuck.id).executeTakeFirstOrThrow()
      assert.equal(row.state, 'delivered')
      assert.equal(row.attempts, 2)
    })

    await t.test('the dispatcher started with the delivery workers sends the event of a sandboxed message', async (t) => {
      const { org, domain } = await setup()
      const rx = await startReceiver(t)
      const hook = await createWebhook(h, org, { url: rx.url, events: ['message.sandboxed'] })
      secrets.push(hook.secret)
      const workers = await h.app.startWorkers()
      t.after(() => workers.stop())
      const id = await sendMessage(h, org, domain, org.testKey)
      await rx.waitFor(1)
      const body = JSON.parse(rx.got[0].body)
      assert.equal(body.type, 'message.sandboxed')
      assert.equal(body.data.message_id, id)
      assert.ok(verifyWebhookSignature(hook.secret, rx.got[0].headers['sealpost-signature'] as string, rx.got[0].body, 300, nowSec(h)))
      assert.deepEqual(verifyWithAll(hook.secret, rx.got[0].headers, rx.got[0].body, nowSec(h)), ALL_OK, 'standardwebhooks, svix and Resend')
      assert.equal(rx.got[0].headers['webhook-id'], body.id)
    })

    await t.test('no secret is in the logs or the audit log', async () => {
      await h.app.audit.writer.flush()
      const audit = JSON.stringify(await h.db.selectFrom('audit_events').selectAll().execute())
      assert.ok(audit.includes('webhook.created') && audit.includes('webhook.secret_rotated'))
      assert.ok(secrets.length >= 4)
      for (const s of secrets) {
        assert.ok(!logs.text().includes(s), 'secret in the logs')
        assert.ok(!audit.includes(s), 'secret in the audit log')
      }
      assert.ok(logs.text().length > 0, 'logs were captured')
    })
  })
}
